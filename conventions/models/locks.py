"""What freezes an agreement's content in the model layer, whatever the path (services,
views, the admin, a shell): from « sent for signature » on, its amount, period, FTE,
texts, schedule and reports change only while an avenant is applied, in the service that
records the avenant's signature (``amendment_in_force``)."""

import contextlib
from contextvars import ContextVar

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.exceptions import DomainError

_amendment_in_force: ContextVar[bool] = ContextVar("amendment_in_force", default=False)


class ContentLocked(DomainError):
    """The agreement (or the avenant) has left: its content changes only by an avenant."""


class UnsoundDate(DomainError):
    """A date of the agreement before the decision it carries out."""


@contextlib.contextmanager
def amendment_in_force():
    """The only way past the lock: used by ``services.amendments.record_amendment_signature``
    while it applies a signed avenant."""
    token = _amendment_in_force.set(True)
    try:
        yield
    finally:
        _amendment_in_force.reset(token)


def amending() -> bool:
    return _amendment_in_force.get()


def locked_message() -> str:
    return _(
        "La convention a été envoyée pour signature : son contenu (montant, période, ETP, "
        "textes, échéancier, bilans) ne change plus. Après la signature, seul un avenant "
        "signé le modifie."
    )


def refuse_before_decision(what: str, day, decision_date) -> None:
    if decision_date is not None and day is not None and day < decision_date:
        raise UnsoundDate(
            _(
                "%(what)s (%(day)s) précède la décision du %(decision)s : une convention ne "
                "peut pas s'appliquer avant la décision qu'elle met en œuvre."
            )
            % {
                "what": what,
                "day": date_format(day, "DATE_FORMAT"),
                "decision": date_format(decision_date, "DATE_FORMAT"),
            }
        )


def changed_fields(instance, stored: dict, names) -> list[str]:
    return [name for name in names if getattr(instance, name) != stored[name]]
