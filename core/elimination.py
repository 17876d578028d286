"""The one way past the freezes of a dossier's acts: an elimination under the archives' visa.

Submitted answers and files, sent letters and agreements refuse any change in their
model layer. Once the public archives have given their visa on a bordereau d'élimination,
the platform must still delete the dossier's files and anonymise its personal data. The
models let that through only inside ``eliminating(candidature_id)``, and only while a
visa'd, not yet eliminated item of a bordereau names that very dossier: the context alone
is not enough, nor is the visa alone. ``retention`` registers the check of the visa
(``register_visa_check``); without it, nothing passes.
"""

import contextlib
from collections.abc import Callable
from contextvars import ContextVar

from django.utils.translation import gettext as _

from core.exceptions import DomainError

_eliminating: ContextVar[frozenset] = ContextVar("eliminating", default=frozenset())
_visa_check: Callable[[int], bool] | None = None


class EliminationRefused(DomainError):
    """No visa of the archives covers this dossier: nothing of it is deleted."""


def register_visa_check(check: Callable[[int], bool]) -> None:
    """``check(candidature_id)``: whether a visa'd bordereau item covers the dossier now."""
    global _visa_check
    _visa_check = check


def has_visa(candidature_id: int) -> bool:
    return _visa_check is not None and bool(_visa_check(candidature_id))


@contextlib.contextmanager
def eliminating(candidature_id: int):
    """Inside, the dossier's frozen acts accept the elimination's changes; refused unless
    the archives' visa covers the dossier."""
    if not has_visa(candidature_id):
        raise EliminationRefused(
            _("Aucun visa des archives ne couvre ce dossier : rien n'en est supprimé ni anonymisé.")
        )
    token = _eliminating.set(_eliminating.get() | {candidature_id})
    try:
        yield
    finally:
        _eliminating.reset(token)


def under_visa(candidature_id: int | None) -> bool:
    """Whether a model may let the elimination of ``candidature_id`` change it now: inside
    ``eliminating`` for that dossier, with its visa still in the database."""
    return (
        candidature_id is not None
        and candidature_id in _eliminating.get()
        and has_visa(candidature_id)
    )
