"""Announcements: the Service IVE writes to everyone concerned by a call.

An audience names a set of organisations of the call (draft holders, submitters,
everyone with a dossier; « the selected » is known by the evaluation, which registers
it in its ``AppConfig.ready``). The recipients are the active members of those
organisations, each address once. Each address gets an outbox row of its own whose key
names the announcement and the address: a second run sends nothing twice, and the form's
token makes a double click send one announcement.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aap.models import Call
from aap.notices import accounts_by_address
from candidatures import rules
from candidatures.models import (
    Announcement,
    AnnouncementRecipient,
    Candidature,
    Membership,
)
from candidatures.states import CandidatureStatus
from core.addresses import normalise_email
from core.exceptions import DomainError
from core.links import absolute_url
from core.mail import queue_email
from core.models import User


@dataclass(frozen=True)
class Audience:
    key: str
    label: str  # what staff pick: « Dossiers en brouillon »
    addressed_to: str  # how the e-mail names it: « aux structures ayant un dossier en brouillon »
    # The ids of the organisations concerned, as a queryset of ``organisation_id``.
    organisations: Callable[[Call], QuerySet]
    position: int = 0


_audiences: dict[str, Audience] = {}


def register_audience(audience: Audience) -> None:
    _audiences[audience.key] = audience


def audiences() -> list[Audience]:
    return sorted(_audiences.values(), key=lambda audience: (audience.position, audience.key))


def audience(key: str) -> Audience | None:
    return _audiences.get(key)


def _dossiers(call: Call, *statuses) -> QuerySet:
    dossiers = Candidature.objects.filter(call=call)
    if statuses:
        dossiers = dossiers.filter(status__in=statuses)
    return dossiers.values("organisation_id")


register_audience(
    Audience(
        key="drafts",
        label=gettext_lazy("Dossiers en brouillon"),
        addressed_to=gettext_lazy("aux structures ayant un dossier en brouillon"),
        organisations=lambda call: _dossiers(call, CandidatureStatus.DRAFT),
        position=10,
    )
)
register_audience(
    Audience(
        key="submitted",
        label=gettext_lazy("Dossiers déposés"),
        addressed_to=gettext_lazy("aux structures ayant déposé un dossier"),
        organisations=lambda call: _dossiers(call, CandidatureStatus.SUBMITTED),
        position=20,
    )
)
register_audience(
    Audience(
        key="everyone",
        label=gettext_lazy("Tous les candidats (brouillons et dossiers déposés)"),
        addressed_to=gettext_lazy("à toutes les structures ayant un dossier"),
        organisations=lambda call: _dossiers(call),
        position=90,
    )
)


def recipients(call: Call, key: str) -> list[str]:
    """The addresses of the active members of the audience's organisations, each once."""
    chosen = audience(key)
    if chosen is None:
        return []
    addresses = Membership.objects.filter(
        organisation_id__in=chosen.organisations(call), user__is_active=True
    ).values_list("user__email", flat=True)
    found = {normalise_email(address) for address in addresses}
    found.discard("")
    return sorted(found)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class DuplicateAnnouncement(DomainError):
    """This announcement was already sent (a double click, or the same text just sent)."""

    def __init__(self, message, *, announcement):
        super().__init__(message)
        self.announcement = announcement


# The same announcement from the same person on the same call within this delay is a repeat.
DUPLICATE_WINDOW = dt.timedelta(minutes=10)


def _address_key(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:20]


def send_announcement(
    call: Call, *, by: User, audience: str, subject: str, body: str, token: str = ""
) -> Announcement:
    """Store the announcement and queue one e-mail per address of its audience."""
    if not rules.can_manage_dossiers(by):
        raise PermissionDenied
    chosen = _audiences.get(audience)
    if chosen is None:
        raise DomainError(_("Choisissez à qui écrire."))
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise DomainError(_("Indiquez l'objet de l'annonce."))
    if not body:
        raise DomainError(_("Écrivez le message de l'annonce."))
    token = token or new_token()
    with transaction.atomic():
        # Under the call's lock: two clicks at once meet here one after the other.
        Call.objects.select_for_update().filter(pk=call.pk).first()
        repeat = Announcement.objects.filter(call=call).filter(token=token).first() or (
            Announcement.objects.filter(
                call=call,
                sent_by=by,
                audience=audience,
                subject=subject,
                body=body,
                sent_at__gte=timezone.now() - DUPLICATE_WINDOW,
            ).first()
        )
        if repeat is not None:
            raise DuplicateAnnouncement(
                _("Cette annonce vient d'être envoyée : elle ne part pas une seconde fois."),
                announcement=repeat,
            )
        addresses = recipients(call, audience)
        if not addresses:
            raise DomainError(
                _("Personne n'est concerné par cette annonce pour l'instant : rien n'est envoyé.")
            )
        announcement = Announcement.objects.create(
            call=call,
            audience=audience,
            subject=subject,
            body=body,
            sent_by=by,
            recipient_count=len(addresses),
            token=token,
        )
        context = {
            "announcement": announcement,
            "call": call,
            "audience": chosen.addressed_to,
            "url": absolute_url("aap:call_detail", slug=call.slug),
        }
        accounts = accounts_by_address(addresses)
        rows = []
        for address in addresses:
            email = queue_email(
                to=address,
                template="announcement",
                context=context,
                key=f"announcement-{announcement.pk}-{_address_key(address)}",
                user=accounts.get(address),
            )
            rows.append(
                AnnouncementRecipient(announcement=announcement, address=address, email=email)
            )
        AnnouncementRecipient.objects.bulk_create(rows)
    return announcement


def dossier_holder_emails(call: Call) -> list[str]:
    """Everyone holding a dossier on ``call``, draft or submitted (``aap.notices``)."""
    return recipients(call, "everyone")
