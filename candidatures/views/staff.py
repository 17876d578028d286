"""The Service IVE's side of dossiers: lists, dossier pages, paper copies, messages,
requests for missing pieces, and the verification of receipts."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from aap.models import Call
from candidatures import followup, funding_request, listing, outcomes, queries, receipts, rules
from candidatures.forms import PaperCopyForm, PieceRequestForm
from candidatures.models import Candidature, Receipt
from candidatures.views.candidate import (
    attachment_response,
    dossier_context,
    message_form,
    post_message_form,
)
from core import downloads, page_cache, spreadsheets
from core import rules as core_rules
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin, RuleMixin
from core.uploads import StreamedUploadMixin


class DossierListView(RuleMixin, TemplateView):
    """A call's dossiers: filtered, searched, sorted by any column, paginated (the filters
    kept), exported as they are shown, and ticked for bulk actions."""

    rule = staticmethod(rules.can_read_all_dossiers)
    template_name = "candidatures/staff/dossier_list.html"
    per_page = 50

    def get_context_data(self, **kwargs):
        call = get_object_or_404(Call.objects.public(), pk=self.kwargs["pk"])
        found = listing.dossier_list(call, self.request.GET)
        page = Paginator(found.dossiers, self.per_page).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        unsorted = query.copy()
        unsorted.pop("tri", None)
        can_manage = rules.can_manage_dossiers(self.request.user)
        return super().get_context_data(
            call=call,
            filter=found.filter,
            # The filters and the bulk actions' forms, unbound on a plain visit, rendered
            # once per version of their fields and choices (crispy costs milliseconds).
            filter_fields=page_cache.kept_form(
                found.filter.form,
                lambda form: render_to_string(
                    "candidatures/staff/_dossier_filter_fields.html", {"form": form}
                ),
            ),
            dossiers=page.object_list,
            rows=listing.page_rows(page.object_list, found.columns),
            headers=listing.sort_links(found.columns, found.sort_key, unsorted.urlencode()),
            page=page,
            total=page.paginator.count,
            query=query.urlencode(),
            bulk_actions=[
                (
                    action,
                    page_cache.kept_form(
                        action.form(prefix=action.key, **action.form_kwargs(call)), as_crispy_form
                    ),
                )
                for action in listing.bulk_actions()
            ]
            if can_manage
            else [],
            **kwargs,
        )


class DossierExportView(RuleMixin, View):
    """The list as filtered, searched and sorted on the page, every row, as CSV or XLSX:
    cells that a spreadsheet would run as formulas are neutralised."""

    rule = staticmethod(rules.can_read_all_dossiers)

    def get(self, request, pk, fmt):
        call = get_object_or_404(Call.objects.public(), pk=pk)
        if fmt not in ("csv", "xlsx"):
            raise Http404
        found = listing.dossier_list(call, request.GET)
        labels = [column.label for column in found.columns]
        name = f"dossiers-{slugify(call.reference)}.{fmt}"
        if fmt == "csv":
            content = spreadsheets.csv_bytes(labels, listing.export_rows(found))
            return downloads.document(content, name, "text/csv; charset=utf-8")
        sheet = spreadsheets.Sheet(
            title=str(_("Dossiers")),
            columns=labels,
            rows=listing.export_rows(found),
            money=frozenset(i for i, column in enumerate(found.columns) if column.money),
        )
        return downloads.document(
            spreadsheets.xlsx_bytes([sheet]),
            name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


class DossierBulkView(RuleMixin, View):
    """One action on the ticked dossiers of a call, through the services."""

    rule = staticmethod(rules.can_manage_dossiers)

    def post(self, request, pk):
        call = get_object_or_404(Call.objects.public(), pk=pk)
        back = request.POST.get("back", "")
        target = reverse("candidatures:staff_dossiers", args=[call.pk])
        if back.startswith("?"):
            target += back
        actions = {action.key: action for action in listing.bulk_actions()}
        action = actions.get(request.POST.get("action", ""))
        ids = [int(pk) for pk in request.POST.getlist("dossiers") if pk.isdigit()]
        dossiers = list(
            Candidature.objects.filter(call=call, pk__in=ids).select_related("organisation")
        )
        if action is None:
            messages.error(request, _("Choisissez une action."))
            return redirect(target)
        if not dossiers:
            messages.error(request, _("Cochez au moins un dossier."))
            return redirect(target)
        form = action.form(request.POST, prefix=action.key, **action.form_kwargs(call))
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, f"{action.label} : {errors[0]}")
            return redirect(target)
        try:
            count = action.run(dossiers, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, action.done(count))
        return redirect(target)


class StaffDossierMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_read_all_dossiers)
    model = Candidature
    context_object_name = "candidature"

    def log_ddets_reading(self, what):
        """Each view of a dossier by the DDETS is kept (who, what, when)."""
        if core_rules.is_ddets_reader(self.request.user):
            followup.log_reading(self.get_object(), self.request.user, what)

    def get_queryset(self):
        return queries.candidatures_visible_to(self.request.user).select_related(
            "call", "organisation"
        )


class StaffDossierView(StaffDossierMixin, DetailView):
    template_name = "candidatures/staff/dossier.html"

    def get_queryset(self):
        return queries.dossier_page(super().get_queryset())

    def get_context_data(self, **kwargs):
        candidature = self.object
        outcomes.attach([candidature], events=True)
        paper_copy = getattr(candidature, "paper_copy", None)
        can_manage = rules.can_manage_dossiers(self.request.user, candidature)
        self.log_ddets_reading(_("dossier"))
        paper_form = PaperCopyForm(instance=paper_copy) if can_manage else None
        piece_form = PieceRequestForm(call=candidature.call) if can_manage else None
        return super().get_context_data(
            **dossier_context(candidature),
            paper_copy=paper_copy,
            paper_on_time=followup.is_paper_copy_on_time(paper_copy) if paper_copy else None,
            can_manage=can_manage,
            paper_form=paper_form,
            # Rendered once per version of their fields: crispy costs milliseconds a form.
            paper_form_html=paper_form and page_cache.kept_form(paper_form, as_crispy_form),
            message_form=message_form(self.request, candidature) if can_manage else None,
            piece_form=piece_form,
            piece_form_html=piece_form and page_cache.kept_form(piece_form, as_crispy_form),
            **kwargs,
        )


class ManageDossierMixin(StaffDossierMixin):
    rule = staticmethod(rules.can_manage_dossiers)


class StaffDocumentDownloadView(StaffDossierMixin, View):
    def get(self, request, pk, document_id):
        document = get_object_or_404(self.get_object().documents.all(), pk=document_id)
        self.log_ddets_reading(_("fichier « %(name)s »") % {"name": document.original_name})
        return attachment_response(document)


class StaffReceiptDownloadView(StaffDossierMixin, View):
    def get(self, request, pk, receipt_id):
        receipt = get_object_or_404(self.get_object().receipts.all(), pk=receipt_id)
        self.log_ddets_reading(_("accusé de réception %(n)s") % {"n": receipt.number})
        return downloads.document(
            receipts.receipt_pdf(receipt.pk), receipts.receipt_filename(receipt), "application/pdf"
        )


class StaffFundingRequestDownloadView(StaffDossierMixin, View):
    def get(self, request, pk, receipt_id):
        candidature = self.get_object()
        if not candidature.call.funding_request_generated:
            raise Http404
        receipt = get_object_or_404(candidature.receipts.all(), pk=receipt_id)
        self.log_ddets_reading(_("dossier de demande %(n)s") % {"n": receipt.number})
        return downloads.document(
            funding_request.funding_request_pdf(receipt.pk),
            funding_request.funding_request_filename(receipt),
            "application/pdf",
        )


class PaperCopyView(ManageDossierMixin, View):
    def post(self, request, pk):
        candidature = self.get_object()
        form = PaperCopyForm(request.POST, instance=getattr(candidature, "paper_copy", None))
        if form.is_valid():
            data = {name: form.cleaned_data.get(name) for name in form.Meta.fields}
            data["received_at"] = form.cleaned_data.get("received_at")
            reason = form.cleaned_data.get("reason", "")
            try:
                followup.record_paper_copy(candidature, by=request.user, reason=reason, **data)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("L'exemplaire papier est enregistré."))
        else:
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label} : {errors[0]}" if label else errors[0])
        return redirect(f"{reverse('candidatures:staff_dossier', args=[pk])}#exemplaire-papier")


class StaffMessageView(StreamedUploadMixin, ManageDossierMixin, View):
    max_bytes = followup.MESSAGE_ATTACHMENT_MAX_BYTES

    def receive(self, request, files, too_large, pk):
        if post_message_form(request, self.get_object(), files, too_large):
            messages.success(request, _("Le message est envoyé au candidat."))
        return redirect(f"{reverse('candidatures:staff_dossier', args=[pk])}#messages")


class StaffMessageAttachmentView(StaffDossierMixin, View):
    def get(self, request, pk, message_id):
        message = get_object_or_404(
            self.get_object().messages.exclude(attachment=""), pk=message_id
        )
        self.log_ddets_reading(
            _("pièce jointe d'un message « %(name)s »") % {"name": message.attachment_name}
        )
        return downloads.stored_file(message.attachment, message.attachment_name)


class PieceRequestView(ManageDossierMixin, View):
    def post(self, request, pk):
        candidature = self.get_object()
        form = PieceRequestForm(request.POST, call=candidature.call)
        if form.is_valid() and form.cleaned_data.get("due_at"):
            try:
                followup.request_pieces(
                    candidature,
                    by=request.user,
                    required_documents=form.cleaned_data["required_documents"],
                    message=form.cleaned_data["message"],
                    due_at=form.cleaned_data["due_at"],
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("La demande de pièces est envoyée au candidat."))
        else:
            messages.error(request, _("La demande est incomplète : pièces, message et date."))
        return redirect(f"{reverse('candidatures:staff_dossier', args=[pk])}#pieces-demandees")


class ClosePieceRequestView(ManageDossierMixin, View):
    def post(self, request, pk, request_id):
        candidature = self.get_object()
        piece_request = get_object_or_404(candidature.piece_requests.all(), pk=request_id)
        followup.close_piece_request(piece_request, by=request.user)
        messages.success(request, _("La demande de pièces est close."))
        return redirect(f"{reverse('candidatures:staff_dossier', args=[pk])}#pieces-demandees")


class VerifyReceiptView(RuleMixin, TemplateView):
    """Where the QR code of a receipt leads: staff compare it with what is stored."""

    rule = staticmethod(rules.can_read_all_dossiers)
    template_name = "candidatures/staff/verify_receipt.html"

    def get_context_data(self, **kwargs):
        receipt = get_object_or_404(
            Receipt.objects.select_related("candidature__organisation", "call", "submitted_by"),
            token=self.kwargs["token"],
        )
        stored = {(d.original_name, d.sha256, d.size) for d in receipt.candidature.documents.all()}
        documents = [
            {**item, "still_stored": (item["name"], item["sha256"], item["size"]) in stored}
            for item in receipt.manifest["documents"]
        ]
        return super().get_context_data(
            receipt=receipt,
            documents=documents,
            submitted_at=receipts.format_datetime(receipt.submitted_at, seconds=True),
            **kwargs,
        )
