"""The Django admin shows the bordereaux, their items and the warnings read-only: nothing
is listed, sent, visa'd or eliminated from here, only through the « Conservation des
données » pages and their services (and nothing is deleted without a visa)."""

from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin, ReadOnlyInline
from retention.models import AccountWarning, Bordereau, BordereauItem, BordereauStatusChange


class ItemInline(ReadOnlyInline):
    model = BordereauItem
    fields = readonly_fields = (
        "category",
        "call",
        "label",
        "started_on",
        "due_on",
        "file_count",
        "volume",
        "eliminated_at",
    )


class HistoryInline(ReadOnlyInline):
    model = BordereauStatusChange


@admin.register(Bordereau)
class BordereauAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "listed_on", "sent_at", "visa_date", "eliminated_at")
    list_filter = ("status",)
    inlines = [ItemInline, HistoryInline]


@admin.register(AccountWarning)
class AccountWarningAdmin(ReadOnlyAdmin):
    list_display = ("user", "inactive_since", "due_on", "sent_at", "cancelled_at")
