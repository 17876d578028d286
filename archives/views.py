"""The archives' pages: a dossier's ZIP streamed as it is made, a call's archive asked
for, followed while a task builds it, then downloaded from storage. The Service IVE's
instructeurs and the administrators only (``rules.can_archive``): every other role gets
403 before anything is read, an unknown dossier, call or archive 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from aap.models import Call
from archives import rules, services
from archives.models import CallArchive
from archives.states import ArchiveStatus
from candidatures.models import Candidature
from core import downloads
from core.exceptions import DomainError
from core.permissions import RuleMixin

ZIP_TYPE = "application/zip"
# Seconds between two automatic reloads of the page while an archive is being built.
REFRESH_SECONDS = 5


class DossierArchiveView(RuleMixin, View):
    rule = staticmethod(rules.can_archive)

    def get(self, request, pk):
        candidature = get_object_or_404(
            Candidature.objects.select_related("call", "organisation"), pk=pk
        )
        return downloads.streamed(
            services.stream_dossier_archive(candidature),
            services.dossier_archive_name(candidature),
            ZIP_TYPE,
        )


class CallArchivesView(RuleMixin, TemplateView):
    rule = staticmethod(rules.can_archive)
    template_name = "archives/call_archives.html"

    def get_context_data(self, **kwargs):
        call = get_object_or_404(Call, pk=self.kwargs["pk"])
        archives = list(services.latest_archives(call)[:10])
        active = next((a for a in archives if a.is_active), None)
        ready = next((a for a in archives if a.status == ArchiveStatus.READY), None)
        self.building = active is not None
        return super().get_context_data(
            call=call,
            archives=archives,
            active=active,
            ready=ready,
            dossiers=services.archived_dossiers(call).select_related("organisation"),
            refresh_seconds=REFRESH_SECONDS,
            **kwargs,
        )

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.building:
            # The page reloads itself while the archive is built (an HTTP header, no script).
            response["Refresh"] = str(REFRESH_SECONDS)
        return response


class RequestCallArchiveView(RuleMixin, View):
    rule = staticmethod(rules.can_archive)

    def post(self, request, pk):
        call = get_object_or_404(Call, pk=pk)
        try:
            services.request_call_archive(call, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _(
                    "L'archive de l'appel à projets est demandée : elle se construit en "
                    "arrière-plan ; cette page montre sa progression."
                ),
            )
        return redirect("archives:call", pk=call.pk)


class CallArchiveDownloadView(RuleMixin, View):
    rule = staticmethod(rules.can_archive)

    def get(self, request, pk):
        archive = get_object_or_404(CallArchive.objects.select_related("call"), pk=pk)
        if archive.status != ArchiveStatus.READY or not archive.file:
            raise Http404
        return downloads.stored_file(archive.file, archive.filename)
