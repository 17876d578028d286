"""Reads of agreements: what needs action and the money, computed by the database so that
the dashboard's query count does not grow with agreements and instalments."""

import datetime as dt
from decimal import Decimal

from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from conventions.models import (
    Amendment,
    AmendmentStatusChange,
    Convention,
    ConventionStatusChange,
    IndicatorValue,
    Payment,
    ProgressReview,
    Report,
    ReportStatusChange,
)
from conventions.states import BINDING_STATUSES, ConventionStatus, PaymentStatus, ReportStatus
from core import rules as core_rules

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)

# How far ahead the dashboard looks for instalments due and reviews coming.
SOON = dt.timedelta(days=15)
# A draft or an agreement sent this long ago and still unsigned needs a look.
UNSIGNED_AFTER = dt.timedelta(days=30)


def conventions_visible_to(user):
    if core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user):
        return Convention.objects.all()
    return Convention.objects.of_member(user)


def _payments_sum(status_filter=None):
    payments = Payment.objects.filter(convention=OuterRef("pk"))
    if status_filter is not None:
        payments = payments.filter(status_filter)
    return Coalesce(
        Subquery(
            payments.order_by()
            .values("convention")
            .annotate(total=Sum("amount"))
            .values("total")[:1],
            output_field=MONEY,
        ),
        ZERO,
    )


def with_money_and_flags(queryset, *, today: dt.date | None = None):
    """Annotate agreements with ``scheduled``, ``paid``, ``remaining`` and the flags of what
    needs action: ``needs_signature``, ``instalment_due``, ``report_late``, ``review_soon``."""
    today = today or timezone.localdate()
    now = timezone.now()
    return queryset.annotate(
        scheduled=_payments_sum(),
        paid=_payments_sum(Q(status=PaymentStatus.PAID)),
        needs_signature=ExpressionWrapper(
            Q(status__in=[ConventionStatus.DRAFT, ConventionStatus.SENT])
            & Q(created_at__lt=now - UNSIGNED_AFTER),
            output_field=BooleanField(),
        ),
        instalment_due=Exists(
            Payment.objects.filter(convention=OuterRef("pk"), due_on__lte=today + SOON).exclude(
                status=PaymentStatus.PAID
            )
        ),
        report_late=Exists(
            Report.objects.filter(
                convention=OuterRef("pk"),
                due_on__lt=today,
                status__in=[ReportStatus.DUE, ReportStatus.SENT_BACK],
            )
        ),
        review_soon=Exists(
            ProgressReview.objects.filter(
                convention=OuterRef("pk"),
                held=False,
                scheduled_at__gte=now,
                scheduled_at__lte=now + SOON,
            )
        ),
    ).annotate(remaining=Coalesce("amount", ZERO) - Coalesce("paid", ZERO))


def dashboard(user, *, year=None, call=None, today=None):
    queryset = conventions_visible_to(user).select_related("organisation", "lot", "call")
    if year:
        queryset = queryset.filter(year=year)
    if call:
        queryset = queryset.filter(call=call)
    return with_money_and_flags(queryset, today=today).order_by("-year", "number")


def totals(queryset) -> dict:
    """Money of the binding agreements of ``queryset``: committed, paid, remaining."""
    binding = queryset.filter(status__in=BINDING_STATUSES)
    committed = binding.aggregate(t=Sum("amount"))["t"] or Decimal(0)
    paid = Payment.objects.filter(convention__in=binding, status=PaymentStatus.PAID).aggregate(
        t=Sum("amount")
    )["t"] or Decimal(0)
    return {
        "committed": committed,
        "paid": paid,
        "remaining": committed - paid,
        "count": binding.count(),
    }


def totals_by(queryset, field: str) -> list[dict]:
    """Committed and paid per ``field`` (``lot__name``, ``call__reference``, ``year``)."""
    binding = queryset.filter(status__in=BINDING_STATUSES)
    rows = {
        row[field]: {
            "key": row[field],
            "committed": row["committed"] or Decimal(0),
            "paid": Decimal(0),
        }
        for row in binding.order_by().values(field).annotate(committed=Sum("amount"))
    }
    paid = (
        Payment.objects.filter(convention__in=binding, status=PaymentStatus.PAID)
        .order_by()
        .values(f"convention__{field}")
        .annotate(total=Sum("amount"))
    )
    for row in paid:
        rows[row[f"convention__{field}"]]["paid"] = row["total"] or Decimal(0)
    for row in rows.values():
        row["remaining"] = row["committed"] - row["paid"]
    return sorted(rows.values(), key=lambda row: str(row["key"]))


def convention_page(queryset):
    return queryset.select_related(
        "organisation", "lot", "call", "candidature", "renews", "created_by"
    ).prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("due_on", "position")),
        Prefetch(
            "reports",
            queryset=Report.objects.select_related("submitted_by").prefetch_related(
                Prefetch("status_changes", queryset=ReportStatusChange.objects.select_related("by"))
            ),
        ),
        Prefetch(
            "reviews",
            queryset=ProgressReview.objects.prefetch_related("remarks__author").order_by(
                "scheduled_at"
            ),
        ),
        Prefetch("indicator_values", queryset=IndicatorValue.objects.select_related("indicator")),
        Prefetch(
            "amendments",
            queryset=Amendment.objects.prefetch_related(
                "instalments",
                Prefetch(
                    "status_changes", queryset=AmendmentStatusChange.objects.select_related("by")
                ),
            ),
        ),
        Prefetch("status_changes", queryset=ConventionStatusChange.objects.select_related("by")),
        "call__indicators",
    )


def indicator_series(convention) -> list[dict]:
    """Per indicator of the call: its target and, quarter by quarter of the agreement, the
    value entered and the running result: the sum so far for a cumulative indicator, the
    last value entered for a level (an active space stays 1 / 1, never 300 %)."""
    quarters = convention.quarters
    values = {}
    for entry in convention.indicator_values.all():
        values.setdefault(entry.indicator_id, {})[entry.period] = entry.value
    series = []
    for indicator in convention.call.indicators.all():
        by_period = values.get(indicator.pk, {})
        running, result, seen = [], None, False
        for period in range(1, quarters + 1):
            if period in by_period:
                seen = True
                value = by_period[period]
                result = value if indicator.is_level else (result or Decimal(0)) + value
            running.append(result if seen else None)
        total = result if result is not None else Decimal(0)
        series.append(
            {
                "indicator": indicator,
                "values": [by_period.get(period) for period in range(1, quarters + 1)],
                "cumulated": running,
                "total": total,
                "share": (total * 100 / indicator.target) if indicator.target else None,
            }
        )
    return series
