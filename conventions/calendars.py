"""Dates of agreements in calendars: reports and reviews for the organisation's members,
instalments and reviews for instructeurs, reviews for the DDETS."""

import datetime as dt

from django.utils import timezone

from conventions.models import Payment, ProgressReview, Report
from conventions.states import ConventionStatus, PaymentStatus, ReportStatus
from core import rules as core_rules
from core.calendars import Event
from core.links import absolute_url

LIVE = [
    ConventionStatus.DRAFT,
    ConventionStatus.SENT,
    ConventionStatus.SIGNED,
    ConventionStatus.IN_PROGRESS,
]


def agreement_dates(user):
    now = timezone.now()
    today = timezone.localdate()
    staff = core_rules.is_instructeur(user)
    reviews = ProgressReview.objects.filter(
        held=False, scheduled_at__gte=now - dt.timedelta(days=1)
    )
    if staff or core_rules.is_ddets_reader(user):
        page = "conventions:detail"
    else:
        reviews = reviews.filter(convention__organisation__memberships__user=user)
        page = "conventions:my_convention"
    for review in reviews.select_related("convention"):
        yield Event(
            f"review-{review.pk}",
            f"Point d'étape : convention {review.convention.number}",
            review.scheduled_at,
            absolute_url(page, pk=review.convention_id),
            review.place,
        )
    reports = Report.objects.filter(
        status__in=[ReportStatus.DUE, ReportStatus.SENT_BACK],
        due_on__gte=today - dt.timedelta(days=30),
        convention__status__in=LIVE,
    )
    if not staff:
        reports = reports.filter(convention__organisation__memberships__user=user)
    for report in reports.select_related("convention"):
        yield Event(
            f"report-{report.pk}",
            f"{report.get_kind_display()} : convention {report.convention.number}",
            report.due_on,
            absolute_url(page if staff else "conventions:my_convention", pk=report.convention_id),
        )
    if staff:
        payments = Payment.objects.exclude(status=PaymentStatus.PAID).filter(
            due_on__gte=today - dt.timedelta(days=30), convention__status__in=LIVE
        )
        for payment in payments.select_related("convention"):
            yield Event(
                f"payment-{payment.pk}",
                f"Versement « {payment.label} » : {payment.convention.number}",
                payment.due_on,
                absolute_url("conventions:detail", pk=payment.convention_id),
            )
