"""Reminders about agreements (unsigned, instalments, progress reviews, reports) and the
instructeurs' daily digest of what needs action."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from aap.reminder_settings import call_scope, days_by_call
from candidatures.models import Membership
from conventions.models import Convention, Payment, ProgressReview, Report
from conventions.states import ConventionStatus, PaymentStatus, ReportKind, ReportStatus
from core.dates import format_datetime, local_datetime
from core.links import absolute_urls
from core.models import User
from core.reminders import (
    Due,
    ReminderKind,
    Setting,
    after,
    before,
    chunks,
    local_date,
    only_this,
)
from core.roles import Role

END_OF_DAY = dt.time(23, 59)
# Rows read at a time; the members of their organisations are fetched per chunk.
CHUNK = 1000
# The agreement's fields the e-mails name: rows are joined to their agreement, never to
# its call (whose texts would come once per row; its offsets come from days_by_call).
CONVENTION_FIELDS = ("number", "beneficiary_name", "organisation_id", "call_id", "call__reference")


def _instructeurs():
    return list(User.objects.with_role(Role.INSTRUCTEUR).values_list("pk", "email"))


def _labels(choices) -> dict[str, str]:
    """What ``get_<field>_display`` gives for each value, translated once (it looks up and
    translates every choice at each call)."""
    return {value: str(label) for value, label in choices.choices}


def _members_by_organisation(organisation_ids) -> dict[int, list[tuple[int, str]]]:
    members: dict[int, list[tuple[int, str]]] = {}
    rows = Membership.objects.filter(
        organisation_id__in=organisation_ids, user__is_active=True
    ).values_list("organisation_id", "user_id", "user__email")
    for organisation_id, user_id, email in rows:
        members.setdefault(organisation_id, []).append((user_id, email))
    return members


class UnsignedAgreement(ReminderKind):
    name = "convention_unsigned"
    label = _("Convention non signée")
    settings = (
        Setting(
            "unsigned_days",
            _("convention non signée : jours après sa préparation"),
            "30",
            many=False,
        ),
    )

    def due(self, now, only=None):
        conventions = (
            only_this(Convention.objects, only)
            .filter(
                status__in=[ConventionStatus.DRAFT, ConventionStatus.SENT],
                created_at__gte=now - dt.timedelta(days=365),
            )
            .select_related("call")
            .only(*CONVENTION_FIELDS, "status", "created_at")
        )
        days = days_by_call(conventions.values("call_id"))
        staff = _instructeurs()
        detail_url = absolute_urls("conventions:detail")
        status_labels = _labels(ConventionStatus)
        for convention in conventions.iterator(chunk_size=CHUNK):
            milestone = after(
                local_date(convention.created_at),
                days[convention.call_id].of("unsigned_days"),
                now,
            )
            if milestone is None:
                continue
            for user_id, email in staff:
                yield Due(
                    self.name,
                    convention.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_convention_unsigned",
                    {
                        "number": convention.number,
                        "beneficiary": convention.beneficiary_name,
                        "status": status_labels[convention.status],
                        "url": detail_url(convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class InstalmentDue(ReminderKind):
    name = "instalment_due"
    label = _("Versement à venir")
    settings = (
        Setting("instalment_days", _("versements : jours avant l'échéance"), "10", many=False),
    )

    def due(self, now, only=None):
        today = local_date(now)
        payments = (
            only_this(Payment.objects, only)
            .exclude(status=PaymentStatus.PAID)
            .filter(
                due_on__gte=today,
                due_on__lte=today + dt.timedelta(days=60),
                convention__status__in=[ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS],
            )
            .select_related("convention__call")
            .only("label", "amount", "due_on", *(f"convention__{f}" for f in CONVENTION_FIELDS))
        )
        offsets = days_by_call(payments.values("convention__call_id"))
        staff = _instructeurs()
        detail_url = absolute_urls("conventions:detail")
        for payment in payments.iterator(chunk_size=CHUNK):
            convention = payment.convention
            days = offsets[convention.call_id].of("instalment_days")
            milestone = before(local_datetime(payment.due_on, END_OF_DAY), days, now)
            if milestone is None:
                continue
            for user_id, email in staff:
                yield Due(
                    self.name,
                    payment.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_instalment",
                    {
                        "number": convention.number,
                        "beneficiary": convention.beneficiary_name,
                        "label": payment.label,
                        "amount": payment.amount,
                        "due_on": payment.due_on,
                        "url": detail_url(convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class ReviewComing(ReminderKind):
    name = "review_coming"
    label = _("Point d'étape à venir")
    settings = (Setting("review_days", _("points d'étape : jours avant"), "7, 1"),)

    def due(self, now, only=None):
        reviews = (
            only_this(ProgressReview.objects, only)
            .filter(held=False, scheduled_at__gt=now, scheduled_at__lte=now + dt.timedelta(days=60))
            .select_related("convention__call")
            .only("scheduled_at", "place", *(f"convention__{f}" for f in CONVENTION_FIELDS))
        )
        days = days_by_call(reviews.values("convention__call_id"))
        staff = list(
            User.objects.with_role(Role.INSTRUCTEUR, Role.LECTEUR_DDETS).values_list("pk", "email")
        )
        urls = absolute_urls("conventions:my_convention"), absolute_urls("conventions:detail")
        for chunk in chunks(reviews.iterator(chunk_size=CHUNK), CHUNK):
            yield from self._chunk_due(chunk, now, days, staff, urls)

    def _chunk_due(self, reviews, now, days, staff, urls):
        members = _members_by_organisation({r.convention.organisation_id for r in reviews})
        own_url, detail_url = urls
        for review in reviews:
            convention = review.convention
            milestone = before(review.scheduled_at, days[convention.call_id].of("review_days"), now)
            if milestone is None:
                continue
            context = {
                "number": convention.number,
                "beneficiary": convention.beneficiary_name,
                "when": format_datetime(review.scheduled_at),
                "place": review.place,
            }
            for user_id, email in members.get(convention.organisation_id, []):
                yield Due(
                    self.name,
                    review.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_review",
                    {**context, "url": own_url(convention.pk)},
                    call_scope(convention.call_id),
                    convention.call.reference,
                )
            for user_id, email in staff:
                yield Due(
                    self.name,
                    review.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_review",
                    {**context, "url": detail_url(convention.pk)},
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class ReportDue(ReminderKind):
    name = "report_due"
    label = _("Bilan à remettre")
    settings = (
        Setting("report_days", _("bilans : jours avant l'échéance"), "15, 3"),
        Setting("report_overdue_days", _("bilans en retard : jours après l'échéance"), "1, 15"),
    )

    def due(self, now, only=None):
        reports = (
            only_this(Report.objects, only)
            .filter(
                status__in=[ReportStatus.DUE, ReportStatus.SENT_BACK],
                due_on__gte=local_date(now) - dt.timedelta(days=90),
                due_on__lte=local_date(now) + dt.timedelta(days=60),
            )
            # Reports are due under a signed agreement only.
            .filter(convention__status__in=[ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS])
            .select_related("convention__call")
            .only("kind", "due_on", *(f"convention__{f}" for f in CONVENTION_FIELDS))
        )
        days = days_by_call(reports.values("convention__call_id"))
        own_url = absolute_urls("conventions:my_convention")
        for chunk in chunks(reports.iterator(chunk_size=CHUNK), CHUNK):
            yield from self._chunk_due(chunk, now, days, own_url)

    def _chunk_due(self, reports, now, days_of_call, own_url):
        today = local_date(now)
        kind_labels = _labels(ReportKind)
        members = _members_by_organisation({r.convention.organisation_id for r in reports})
        for report in reports:
            convention = report.convention
            days = days_of_call[convention.call_id]
            if report.due_on >= today:
                milestone = before(
                    local_datetime(report.due_on, END_OF_DAY), days.of("report_days"), now
                )
                late = False
            else:
                milestone = after(report.due_on, days.of("report_overdue_days"), now)
                late = True
            if milestone is None:
                continue
            for user_id, email in members.get(convention.organisation_id, []):
                yield Due(
                    self.name,
                    report.pk,
                    milestone,
                    user_id,
                    email,
                    "reminder_report",
                    {
                        "number": convention.number,
                        "report": kind_labels[report.kind],
                        # « Le bilan final de la convention … » (« CERFA » keeps its capitals).
                        "report_in_sentence": kind_labels[report.kind][:1].lower()
                        + kind_labels[report.kind][1:],
                        "due_on": report.due_on,
                        "late": late,
                        "url": own_url(convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


def digest_items(now) -> list[tuple[int, str]]:
    """For the instructeurs' daily digest: agreements waiting for a signature, instalments
    due within ten days, reports late."""
    today = local_date(now)
    running = [ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS]
    return [
        (
            Convention.objects.filter(status=ConventionStatus.SENT).count(),
            _("convention(s) envoyée(s) en attente de signature"),
        ),
        (
            Payment.objects.exclude(status=PaymentStatus.PAID)
            .filter(due_on__lte=today + dt.timedelta(days=10), convention__status__in=running)
            .count(),
            _("versement(s) à échéance sous dix jours"),
        ),
        (
            Report.objects.filter(
                status__in=[ReportStatus.DUE, ReportStatus.SENT_BACK],
                due_on__lt=today,
                convention__status__in=running,
            ).count(),
            _("bilan(s) en retard"),
        ),
    ]
