"""The archives' pages: a dossier's ZIP streamed as it is made, a call's archive asked
for, followed while a task builds it, then downloaded from storage. The Service IVE's
instructeurs and the administrators only (``rules.can_archive``): every other role gets
403 before anything is read, an unknown dossier, call or archive 404."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from aap.models import Call
from archives import rules, services
from archives.dossier import missing_files
from archives.models import CallArchive
from archives.states import ArchiveStatus
from candidatures.models import Candidature
from core import downloads
from core.exceptions import DomainError
from core.htmx import is_htmx, vary_on_htmx
from core.permissions import RuleMixin

ZIP_TYPE = "application/zip"
# Seconds between two requests for the progress while an archive is being built.
REFRESH_SECONDS = 5


class DossierArchiveView(RuleMixin, View):
    rule = staticmethod(rules.can_archive)

    def get(self, request, pk):
        candidature = get_object_or_404(
            Candidature.objects.select_related("call", "organisation"), pk=pk
        )
        if missing := missing_files(candidature):
            messages.error(
                request,
                _(
                    "L'archive du dossier ne peut pas être construite : des fichiers "
                    "enregistrés sont introuvables dans l'espace de stockage (%(files)s). "
                    "Prévenez l'administrateur."
                )
                % {"files": ", ".join(missing)},
            )
            return redirect("candidatures:staff_dossier", pk=candidature.pk)
        return downloads.streamed(
            services.stream_dossier_archive(candidature),
            services.dossier_archive_name(candidature),
            ZIP_TYPE,
        )


class CallArchivesView(RuleMixin, TemplateView):
    """The call's archives. While one is built, htmx asks for its progress every few
    seconds and swaps it in place; once built (or failed), it reloads the whole page.
    Without JavaScript, « Actualiser » does the same."""

    rule = staticmethod(rules.can_archive)
    template_name = "archives/call_archives.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        if not is_htmx(request):
            return vary_on_htmx(self.render_to_response(context))
        if context["active"] is None:
            response = HttpResponse()
            response["HX-Refresh"] = "true"
            return vary_on_htmx(response)
        return vary_on_htmx(render(request, "archives/partials/_progress.html", context))

    def get_context_data(self, **kwargs):
        call = get_object_or_404(Call, pk=self.kwargs["pk"])
        archives = list(services.latest_archives(call)[:10])
        return super().get_context_data(
            call=call,
            archives=archives,
            active=next((a for a in archives if a.is_active), None),
            ready=next((a for a in archives if a.status == ArchiveStatus.READY), None),
            dossiers=services.archived_dossiers(call).select_related("organisation"),
            refresh_seconds=REFRESH_SECONDS,
            **kwargs,
        )


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
