"""The Django admin of calls, for administrators only: programmes, calls, raw data."""

from django.contrib import admin

from aap import services
from aap.models import (
    Call,
    CallQuestion,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    Programme,
    RequiredDocument,
    SubCriterion,
)
from core.forms import FRENCH_DECIMALS


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("short_name", "name", "start_year", "end_year")


class StructureInline(admin.TabularInline):
    """A part of a call's structure: editable here only while the call is a draft, as in
    the back-office (the models refuse it otherwise, whatever the path)."""

    extra = 0
    formfield_overrides = FRENCH_DECIMALS

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_structure_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class LotInline(StructureInline):
    model = Lot


class CriterionInline(StructureInline):
    model = Criterion


class RequiredDocumentInline(StructureInline):
    model = RequiredDocument
    fields = ("position", "label", "mandatory", "multiple", "allowed_formats", "max_size_mb")


class ExpectedActionInline(StructureInline):
    model = ExpectedAction


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "status", "deadline", "is_demo")
    list_filter = ("status", "is_demo", "programme")
    search_fields = ("reference", "title")
    # Status moves go through the back-office services, which keep the history; the
    # deadline may be postponed here, never brought forward (Call.clean and Call.save).
    readonly_fields = ("status", "published_at", "scoring_locked_at")
    inlines = [LotInline, CriterionInline, ExpectedActionInline, RequiredDocumentInline]

    def save_model(self, request, obj, form, change):
        # A deadline postponed here tells every candidate too (equal treatment).
        services.store_call(obj)


@admin.register(SubCriterion)
class SubCriterionAdmin(admin.ModelAdmin):
    list_display = ("title", "criterion")

    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.criterion.call.is_structure_editable
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.criterion.call.is_structure_editable
        return editable and super().has_delete_permission(request, obj)


@admin.register(CallStatusChange)
class CallStatusChangeAdmin(admin.ModelAdmin):
    list_display = ("call", "from_label", "to_label", "by", "at")
    list_filter = ("to_status",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(CallQuestion)
class CallQuestionAdmin(admin.ModelAdmin):
    list_display = ("call", "asked_at", "published_at")
