"""Requests for a call's archive, read only: they are made and built by the service and
its task, never edited by hand."""

from django.contrib import admin

from archives.models import CallArchive


@admin.register(CallArchive)
class CallArchiveAdmin(admin.ModelAdmin):
    list_display = ("call", "requested_at", "requested_by", "status", "dossiers_done", "size")
    list_filter = ("status",)
    readonly_fields = [field.name for field in CallArchive._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
