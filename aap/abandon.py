"""« Classer sans suite »: a published call that will select nobody closes with a reason.

The move is in the call's state table (published, closed or under review; never once
the decisions are notified: the call is then decided). What else refuses it is known
above ``aap`` (a dossier already selected, a decision letter already sent): those apps
register their checks here in their ``AppConfig.ready``; the checks run on the locked
call row, which notifying the decisions also takes. The reason is recorded in the
history and on the call, published on its page, and every draft holder and submitter
is told by e-mail through the outbox, once each.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aap import notices
from aap.models import Call
from aap.services import transition_call
from aap.states import CallAction
from core.exceptions import DomainError
from core.mail import queue_email
from core.models import User

# ``check(call)`` -> the reasons, in French, why ``call`` may not be abandoned.
AbandonCheck = Callable[[Call], list[str]]

_checks: list[AbandonCheck] = []


def register_abandon_check(check: AbandonCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def abandon_problems(call: Call) -> list[str]:
    """What, besides the status, forbids classing ``call`` « sans suite »; [] when nothing."""
    return [str(problem) for check in _checks for problem in check(call)]


def abandon_call(call: Call, *, by: User, reason: str) -> Call:
    """Class ``call`` « sans suite » for ``reason``, and tell everyone holding a dossier."""
    reason = reason.strip()

    def check(row):
        if not reason:
            raise DomainError(_("Indiquez pourquoi l'appel à projets est classé sans suite."))
        if problems := abandon_problems(row):
            raise DomainError(
                _("L'appel à projets ne peut pas être classé sans suite."), problems=problems
            )

    with transaction.atomic():
        call = transition_call(
            call,
            CallAction.ABANDON,
            by=by,
            note=reason,
            updates={"abandon_reason": reason, "abandoned_at": timezone.now()},
            check=check,
        )
        notify_abandoned(call)
    return call


def notify_abandoned(call: Call) -> int:
    """One e-mail to each address concerned by ``call``; a second run sends nothing."""
    context = {
        "call": call,
        "reason": call.abandon_reason,
        "url": f"{settings.SITE_URL}{call.get_absolute_url()}",
    }
    queued = 0
    for address in notices.concerned_addresses(call):
        digest = hashlib.sha256(address.encode()).hexdigest()[:20]
        queue_email(
            to=address,
            template="call_abandoned",
            context=context,
            key=f"call-abandoned-{call.pk}-{digest}",
        )
        queued += 1
    return queued
