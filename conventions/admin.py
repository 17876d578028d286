"""The Django admin shows agreements, their schedules, avenants and reports read-only:
every change goes through the services (and the model layer refuses the rest), so that
an act that has left is changed only by a new recorded act."""

from django.contrib import admin

from conventions.models import (
    Amendment,
    AmendmentInstalment,
    AmendmentStatusChange,
    Convention,
    ConventionStatusChange,
    Payment,
    PaymentStatusChange,
    Report,
    ReportStatusChange,
)
from core.readonly_admin import ReadOnlyAdmin, ReadOnlyInline


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = (
        "label",
        "due_on",
        "amount",
        "condition",
        "condition_date",
        "status",
    )


class ConventionHistoryInline(ReadOnlyInline):
    model = ConventionStatusChange


@admin.register(Convention)
class ConventionAdmin(ReadOnlyAdmin):
    list_display = ("number", "beneficiary_name", "period_start", "period_end", "amount", "status")
    list_filter = ("status", "call")
    search_fields = ("number", "beneficiary_name")
    inlines = [PaymentInline, ConventionHistoryInline]


class AmendmentInstalmentInline(ReadOnlyInline):
    model = AmendmentInstalment


class AmendmentHistoryInline(ReadOnlyInline):
    model = AmendmentStatusChange


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "amount_before", "amount_after", "signed_on")
    inlines = [AmendmentInstalmentInline, AmendmentHistoryInline]


class PaymentHistoryInline(ReadOnlyInline):
    model = PaymentStatusChange


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "convention", "due_on", "condition", "status")
    inlines = [PaymentHistoryInline]


class ReportHistoryInline(ReadOnlyInline):
    model = ReportStatusChange


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "due_on", "status")
    inlines = [ReportHistoryInline]
