"""What is due for elimination on a given day, category by category.

Each category's period (``settings.RETENTION_DAYS``) runs from a day read on a Paris clock;
a thing is due on ``started_on + period``, not the day before. A dossier whose agreement
still runs, has an instalment not paid, or a rectification not yet notified is frozen:
not due, whatever its dates. Something already held by a bordereau sent to the archives
(or refused and not listed again) is not listed twice.

The number of queries does not grow with the number of things listed: every category is
read in a few queries, the files of all the dossiers together."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from aap.models import Call
from candidatures.models import Candidature, Document, Message, Reading, Receipt
from candidatures.states import CandidatureStatus
from conventions.models import Amendment, Convention, ConventionStatusChange, Payment, Report
from conventions.states import ConventionStatus, PaymentStatus
from core.models import EmailStatus, OutgoingEmail, User
from core.roles import Role
from evaluation.models import Admissibility, Decision, DecisionRectification, NotificationLetter
from evaluation.states import AdmissibilityOutcome, DecisionOutcome, LetterKind, LetterStatus
from retention.models import Bordereau, BordereauItem
from retention.states import HOLDING_STATUSES, BordereauStatus, Category

CATEGORY_ORDER = list(Category)
CLOSED_AGREEMENTS = (ConventionStatus.SETTLED, ConventionStatus.TERMINATED)


@dataclass
class DueItem:
    category: str
    started_on: dt.date
    due_on: dt.date
    label: str
    call: Call | None = None
    candidature: Candidature | None = None
    account: User | None = None
    reading: Reading | None = None
    email: OutgoingEmail | None = None
    file_count: int = 0
    volume: int = 0
    files: list = field(default_factory=list, repr=False)

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label)


def period(category: str) -> dt.timedelta:
    return dt.timedelta(days=settings.RETENTION_DAYS[str(category)])


def local_day(when: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(when) if when is not None else None


def _held(category: str, column: str) -> set[int]:
    """Ids already in a bordereau sent to the archives, or refused and not listed again."""
    rows = BordereauItem.objects.filter(category=category).filter(
        Q(bordereau__status__in=HOLDING_STATUSES)
        | Q(bordereau__status=BordereauStatus.REFUSED, bordereau__relisted_at__isnull=True)
    )
    return set(rows.exclude(**{f"{column}__isnull": True}).values_list(column, flat=True))


def due(*, on: dt.date) -> list[DueItem]:
    """Everything due for elimination on the day ``on``, in the bordereau's order."""
    items = [*dossiers_due(on=on), *accounts_due(on=on), *readings_due(on=on)]
    items += outbox_due(on=on)
    items.sort(
        key=lambda item: (
            CATEGORY_ORDER.index(item.category),
            item.call.reference if item.call else "",
            item.label,
        )
    )
    return items


# --- Dossiers -----------------------------------------------------------------------------


def dossier_starts(*, on: dt.date) -> dict[int, tuple[str, dt.date]]:
    """Each dossier whose period has started and is not frozen: its category and the day
    its period started."""
    notified = dict(
        NotificationLetter.objects.filter(status=LetterStatus.SENT)
        .values("candidature_id")
        .annotate(last=Max("sent_at"))
        .values_list("candidature_id", "last")
    )
    frozen = _frozen_dossiers()
    starts: dict[int, tuple[str, dt.date]] = {}

    # Drafts never submitted, once their call's deadline has passed.
    drafts = Candidature.objects.filter(
        status=CandidatureStatus.DRAFT, call__deadline__lt=cutoff(Category.NOT_SELECTED, on)
    ).values_list("pk", "call__deadline")
    for pk, deadline in drafts:
        starts[pk] = (Category.NOT_SELECTED, local_day(deadline))

    inadmissible = set(
        Admissibility.objects.filter(outcome=AdmissibilityOutcome.INADMISSIBLE).values_list(
            "candidature_id", flat=True
        )
    )
    outcomes: dict[int, set[str]] = {}
    for pk, outcome in Decision.objects.values_list("candidature_id", "outcome"):
        outcomes.setdefault(pk, set()).add(outcome)
    selected = {pk for pk, found in outcomes.items() if DecisionOutcome.SELECTED in found}

    # Not selected, or inadmissible: from the last letter that notified it.
    for pk in (inadmissible | set(outcomes)) - selected:
        if pk in notified:
            starts[pk] = (Category.NOT_SELECTED, local_day(notified[pk]))

    # Selected: from the last payment of its agreements, once they are all closed.
    agreements: dict[int, list[str]] = {}
    for pk, status in Convention.objects.values_list("candidature_id", "status"):
        agreements.setdefault(pk, []).append(status)
    last_paid = dict(
        Payment.objects.filter(status=PaymentStatus.PAID)
        .values("convention__candidature_id")
        .annotate(last=Max("paid_on"))
        .values_list("convention__candidature_id", "last")
    )
    closed_on = dict(
        ConventionStatusChange.objects.filter(to_status__in=CLOSED_AGREEMENTS)
        .values("convention__candidature_id")
        .annotate(last=Max("at"))
        .values_list("convention__candidature_id", "last")
    )
    for pk in selected:
        statuses = agreements.get(pk)
        if statuses is None:
            # Selected but no agreement was ever made: from the notification.
            if pk in notified:
                starts[pk] = (Category.SELECTED, local_day(notified[pk]))
            continue
        if any(status not in CLOSED_AGREEMENTS for status in statuses):
            continue  # an agreement still runs
        start = last_paid.get(pk) or local_day(closed_on.get(pk))
        if start is not None:
            starts[pk] = (Category.SELECTED, start)

    return {pk: value for pk, value in starts.items() if pk not in frozen}


def _frozen_dossiers() -> set[int]:
    """Dossiers that nothing may eliminate now: an agreement still runs (``dossier_starts``
    reads that), an instalment is not paid, a rectification is not yet notified."""
    unpaid = Payment.objects.exclude(status=PaymentStatus.PAID).exclude(
        # An instalment never requested on a terminated agreement will never be paid.
        status=PaymentStatus.PLANNED,
        convention__status=ConventionStatus.TERMINATED,
    )
    frozen = set(unpaid.values_list("convention__candidature_id", flat=True))
    pending = DecisionRectification.objects.exclude(letter__status=LetterStatus.SENT)
    frozen |= set(pending.values_list("decision__candidature_id", flat=True))
    # Any rectification (of a decision or of an inadmissibility) whose letter has not left.
    letters = NotificationLetter.objects.filter(kind=LetterKind.RECTIFICATION)
    frozen |= set(
        letters.exclude(status=LetterStatus.SENT).values_list("candidature_id", flat=True)
    )
    return frozen


def dossiers_due(*, on: dt.date) -> list[DueItem]:
    held = _held(Category.NOT_SELECTED, "candidature_id") | _held(
        Category.SELECTED, "candidature_id"
    )
    due_ids = {}
    for pk, (category, started_on) in dossier_starts(on=on).items():
        if pk in held:
            continue
        due_on = started_on + period(category)
        if due_on <= on:
            due_ids[pk] = (category, started_on, due_on)
    dossiers = Candidature.objects.filter(pk__in=due_ids).select_related("call", "organisation")
    files = dossier_files(list(due_ids))
    items = []
    for dossier in dossiers:
        category, started_on, due_on = due_ids[dossier.pk]
        stored = files.get(dossier.pk, [])
        items.append(
            DueItem(
                category=category,
                started_on=started_on,
                due_on=due_on,
                label=_("%(organisation)s (SIRET %(siret)s), dossier n° %(pk)s")
                % {
                    "organisation": dossier.organisation.name,
                    "siret": dossier.organisation.siret,
                    "pk": dossier.pk,
                },
                call=dossier.call,
                candidature=dossier,
                file_count=len(stored),
                volume=sum(size for _name, size in stored),
                files=stored,
            )
        )
    return items


# Every model that stores files under a dossier, and its path to the dossier. Each of their
# file fields counts, whatever it is named (a test checks that no other model of the dossier's
# apps stores a file, so that a new one cannot be forgotten here).
FILE_OWNERS = {
    Document: "candidature_id",
    Receipt: "candidature_id",
    Message: "candidature_id",
    NotificationLetter: "candidature_id",
    Convention: "candidature_id",
    Amendment: "convention__candidature_id",
    Report: "convention__candidature_id",
}


def file_fields(model) -> list[str]:
    return [
        field.name for field in model._meta.concrete_fields if isinstance(field, models.FileField)
    ]


def dossier_files(candidature_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Every file stored under each dossier, as (storage name, size in bytes): its uploads,
    receipts, messages' attachments, letters, agreements, avenants and reports. A file
    missing from the storage counts for 0 bytes."""
    found: dict[int, list[tuple[str, int]]] = {}
    for model, owner in FILE_OWNERS.items():
        names = file_fields(model)
        if not names:
            continue
        rows = model.objects.filter(**{f"{owner}__in": candidature_ids}).values_list(owner, *names)
        for owner_id, *stored in rows:
            for name in stored:
                if name:
                    found.setdefault(owner_id, []).append(
                        (name, stored_size(default_storage, name))
                    )
    return found


def stored_size(storage, name: str) -> int:
    try:
        return storage.size(name)
    except OSError:
        return 0


# --- Accounts, readings, e-mails ------------------------------------------------------------


def cutoff(category: str, on: dt.date) -> dt.datetime:
    """The instant before which a period that started is over on ``on``: the start of the
    next Paris day after ``on - period``."""
    last_start = on - period(category)
    return timezone.make_aware(dt.datetime.combine(last_start + dt.timedelta(days=1), dt.time()))


def inactive_accounts(*, before: dt.datetime):
    """Candidates' accounts with no login (or sign-up) since ``before``, annotated with
    ``inactive_since``; staff and accounts linked to a running agreement are kept."""
    staff_roles = [role.value for role in Role if role != Role.CANDIDAT]
    running = Convention.objects.exclude(status__in=CLOSED_AGREEMENTS)
    return (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .exclude(groups__name__in=staff_roles)
        .exclude(memberships__organisation__in=running.values("organisation"))
        .annotate(inactive_since=Coalesce("last_login", "date_joined"))
        .filter(inactive_since__lt=before)
        .order_by("pk")
    )


def accounts_due(*, on: dt.date) -> list[DueItem]:
    held = _held(Category.INACTIVE_ACCOUNT, "account_id")
    accounts = inactive_accounts(before=cutoff(Category.INACTIVE_ACCOUNT, on)).exclude(pk__in=held)
    items = []
    for user in accounts:
        started_on = local_day(user.inactive_since)
        items.append(
            DueItem(
                category=Category.INACTIVE_ACCOUNT,
                started_on=started_on,
                due_on=started_on + period(Category.INACTIVE_ACCOUNT),
                label=_("Compte n° %(pk)s") % {"pk": user.pk},
                account=user,
            )
        )
    return items


def readings_due(*, on: dt.date) -> list[DueItem]:
    held = _held(Category.READING_LOG, "reading_id")
    readings = (
        Reading.objects.filter(at__lt=cutoff(Category.READING_LOG, on))
        .exclude(pk__in=held)
        .select_related("candidature__call", "candidature__organisation")
        .order_by("at", "pk")
    )
    items = []
    for reading in readings:
        started_on = local_day(reading.at)
        items.append(
            DueItem(
                category=Category.READING_LOG,
                started_on=started_on,
                due_on=started_on + period(Category.READING_LOG),
                label=_("Consultation n° %(pk)s du dossier de %(organisation)s")
                % {"pk": reading.pk, "organisation": reading.candidature.organisation.name},
                call=reading.candidature.call,
                reading=reading,
            )
        )
    return items


def outbox_due(*, on: dt.date) -> list[DueItem]:
    """E-mails sent (or dropped) before the period: never one still waiting to leave."""
    held = _held(Category.OUTBOX, "email_id")
    before = cutoff(Category.OUTBOX, on)
    emails = (
        OutgoingEmail.objects.filter(
            Q(status=EmailStatus.SENT, sent_at__lt=before)
            | Q(status=EmailStatus.DROPPED, created_at__lt=before)
        )
        .exclude(pk__in=held)
        .only("pk", "template", "sent_at", "created_at", "status", "body_text", "body_html")
        .order_by("pk")
    )
    items = []
    for email in emails:
        started_on = local_day(email.sent_at or email.created_at)
        items.append(
            DueItem(
                category=Category.OUTBOX,
                started_on=started_on,
                due_on=started_on + period(Category.OUTBOX),
                label=_("Courriel n° %(pk)s (%(template)s)")
                % {"pk": email.pk, "template": email.template},
                email=email,
                volume=len(email.body_text.encode()) + len(email.body_html.encode()),
            )
        )
    return items


# --- The visa --------------------------------------------------------------------------------


def dossier_has_visa(candidature_id: int) -> bool:
    """A bordereau whose visa is recorded, being eliminated, holds this dossier and has
    not eliminated it yet (``core.elimination``)."""
    return BordereauItem.objects.filter(
        candidature_id=candidature_id,
        eliminated_at__isnull=True,
        bordereau__status=BordereauStatus.ELIMINATING,
        bordereau__visa_date__isnull=False,
        bordereau__visa_recorded_by__isnull=False,
    ).exists()


def current_draft() -> Bordereau | None:
    return Bordereau.objects.filter(status=BordereauStatus.DRAFT).first()
