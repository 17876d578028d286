"""Reminders about agreements (unsigned, instalments, progress reviews, reports) and the
instructeurs' daily digest of what needs action."""

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aap.models import CallQuestion
from aap.reminder_settings import call_scope, days_of, settings_by_call
from candidatures.models import Candidature, Membership, PieceRequest
from conventions.models import Convention, Payment, ProgressReview, Report
from conventions.states import ConventionStatus, PaymentStatus
from core.dates import format_datetime, local_datetime
from core.links import absolute_url
from core.models import User
from core.reminders import (
    Due,
    ReminderKind,
    after,
    before,
    chunks,
    local_date,
    milestone_at,
    only_this,
)
from core.roles import Role
from evaluation.models import Assignment
from evaluation.states import ConflictStatus, EvaluationStatus

END_OF_DAY = dt.time(23, 59)
# Rows read at a time; the members of their organisations are fetched per chunk.
CHUNK = 1000
# The agreement's fields the e-mails name: rows are joined to their agreement, never to
# its call (whose texts would come once per row; its settings come from settings_by_call).
CONVENTION_FIELDS = ("number", "beneficiary_name", "organisation_id", "call_id", "call__reference")


def _instructeurs():
    return list(User.objects.with_role(Role.INSTRUCTEUR).values_list("pk", "email"))


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
        settings = settings_by_call(conventions.values("call_id"))
        staff = _instructeurs()
        for convention in conventions.iterator(chunk_size=CHUNK):
            milestone = after(
                local_date(convention.created_at),
                [settings[convention.call_id].unsigned_days],
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
                        "status": convention.get_status_display(),
                        "url": absolute_url("conventions:detail", pk=convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class InstalmentDue(ReminderKind):
    name = "instalment_due"
    label = _("Versement à venir")

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
        settings = settings_by_call(payments.values("convention__call_id"))
        staff = _instructeurs()
        for payment in payments.iterator(chunk_size=CHUNK):
            convention = payment.convention
            days = [settings[convention.call_id].instalment_days]
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
                        "url": absolute_url("conventions:detail", pk=convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class ReviewComing(ReminderKind):
    name = "review_coming"
    label = _("Point d'étape à venir")

    def due(self, now, only=None):
        reviews = (
            only_this(ProgressReview.objects, only)
            .filter(held=False, scheduled_at__gt=now, scheduled_at__lte=now + dt.timedelta(days=60))
            .select_related("convention__call")
            .only("scheduled_at", "place", *(f"convention__{f}" for f in CONVENTION_FIELDS))
        )
        settings = settings_by_call(reviews.values("convention__call_id"))
        staff = list(
            User.objects.with_role(Role.INSTRUCTEUR, Role.LECTEUR_DDETS).values_list("pk", "email")
        )
        for chunk in chunks(reviews.iterator(chunk_size=CHUNK), CHUNK):
            yield from self._chunk_due(chunk, now, settings, staff)

    def _chunk_due(self, reviews, now, settings, staff):
        members = _members_by_organisation({r.convention.organisation_id for r in reviews})
        for review in reviews:
            convention = review.convention
            milestone = before(
                review.scheduled_at, days_of(settings[convention.call_id].review_days), now
            )
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
                    {**context, "url": absolute_url("conventions:my_convention", pk=convention.pk)},
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
                    {**context, "url": absolute_url("conventions:detail", pk=convention.pk)},
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


class ReportDue(ReminderKind):
    name = "report_due"
    label = _("Bilan à remettre")

    def due(self, now, only=None):
        reports = (
            only_this(Report.objects, only)
            .filter(
                submitted_at__isnull=True,
                due_on__gte=local_date(now) - dt.timedelta(days=90),
                due_on__lte=local_date(now) + dt.timedelta(days=60),
            )
            # Reports are due under a signed agreement only.
            .filter(convention__status__in=[ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS])
            .select_related("convention__call")
            .only("kind", "due_on", *(f"convention__{f}" for f in CONVENTION_FIELDS))
        )
        settings = settings_by_call(reports.values("convention__call_id"))
        for chunk in chunks(reports.iterator(chunk_size=CHUNK), CHUNK):
            yield from self._chunk_due(chunk, now, settings)

    def _chunk_due(self, reports, now, settings_of_call):
        today = local_date(now)
        members = _members_by_organisation({r.convention.organisation_id for r in reports})
        for report in reports:
            convention = report.convention
            settings = settings_of_call[convention.call_id]
            if report.due_on >= today:
                milestone = before(
                    local_datetime(report.due_on, END_OF_DAY), days_of(settings.report_days), now
                )
                late = False
            else:
                milestone = after(report.due_on, days_of(settings.report_overdue_days), now)
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
                        "report": report.get_kind_display(),
                        "due_on": report.due_on,
                        "late": late,
                        "url": absolute_url("conventions:my_convention", pk=convention.pk),
                    },
                    call_scope(convention.call_id),
                    convention.call.reference,
                )


DIGEST_TIME = dt.time(7, 0)


def digest_items(now) -> list[str]:
    """What needs an instructeur's action this morning, in French; empty when nothing."""
    today = local_date(now)
    yesterday = now - dt.timedelta(days=1)
    counts = [
        (
            Candidature.objects.filter(submitted_at__gte=yesterday).count(),
            _("dossier(s) déposé(s) depuis hier"),
        ),
        (CallQuestion.objects.pending().count(), _("question(s) de candidats sans réponse")),
        (
            PieceRequest.objects.open_at(now)
            .filter(due_at__lte=now + dt.timedelta(days=3))
            .count(),
            _("demande(s) de pièces arrivant à échéance sous trois jours"),
        ),
        (
            Assignment.objects.exclude(conflict=ConflictStatus.CONFLICT)
            .filter(candidature__call__scoring_grid__due_at__lt=now)
            .filter(Q(evaluation__isnull=True) | Q(evaluation__status=EvaluationStatus.DRAFT))
            .count(),
            _("évaluation(s) en retard"),
        ),
        (
            Convention.objects.filter(status=ConventionStatus.SENT).count(),
            _("convention(s) envoyée(s) en attente de signature"),
        ),
        (
            Payment.objects.exclude(status=PaymentStatus.PAID)
            .filter(
                due_on__lte=today + dt.timedelta(days=10),
                convention__status__in=[ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS],
            )
            .count(),
            _("versement(s) à échéance sous dix jours"),
        ),
        (
            Report.objects.filter(
                submitted_at__isnull=True,
                due_on__lt=today,
                convention__status__in=[ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS],
            ).count(),
            _("bilan(s) en retard"),
        ),
    ]
    return [f"{count} {label}" for count, label in counts if count]


class DailyDigest(ReminderKind):
    name = "daily_digest"
    label = _("Récapitulatif quotidien")

    def due(self, now, only=None):
        # One digest a day to each instructeur ("jour"): ``only`` narrows nothing.
        today = local_date(now)
        if now < milestone_at(today, DIGEST_TIME):
            return
        recipients = list(
            User.objects.with_role(Role.INSTRUCTEUR)
            .filter(wants_daily_digest=True)
            .values_list("pk", "email")
        )
        if not recipients:
            return
        items = digest_items(now)
        if not items:
            return
        for user_id, email in recipients:
            yield Due(
                self.name,
                "jour",
                today.isoformat(),
                user_id,
                email,
                "reminder_digest",
                {
                    "items": items,
                    "date": today,
                    "url": absolute_url("aap:backoffice_calls"),
                    "settings_url": absolute_url("accounts:profile"),
                },
            )
