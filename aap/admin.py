"""The Django admin of calls, for administrators only: programmes, calls, raw data."""

from django.contrib import admin

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


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("short_name", "name", "start_year", "end_year")


class LotInline(admin.TabularInline):
    model = Lot
    extra = 0


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ("position", "label", "mandatory", "multiple", "allowed_formats", "max_size_mb")


class ExpectedActionInline(admin.TabularInline):
    model = ExpectedAction
    extra = 0


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "status", "deadline", "is_demo")
    list_filter = ("status", "is_demo", "programme")
    search_fields = ("reference", "title")
    # Status moves go through the back-office services, which keep the history.
    readonly_fields = ("status", "published_at")
    inlines = [LotInline, CriterionInline, ExpectedActionInline, RequiredDocumentInline]


@admin.register(SubCriterion)
class SubCriterionAdmin(admin.ModelAdmin):
    list_display = ("title", "criterion")


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
