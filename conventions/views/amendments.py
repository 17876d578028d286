"""Avenants, for the Service IVE (read by the DDETS): prepared from a signed agreement,
their text, amount, end and schedule edited while in preparation, sent for signature
(the PDF frozen), signed with the scan, which applies them."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView

from conventions import queries, rules, services
from conventions.forms import (
    AmendmentForm,
    AmendmentSignatureForm,
    NoteForm,
    PaymentForm,
    TerminateForm,
)
from conventions.models import Amendment, AmendmentInstalment
from conventions.states import AmendmentAction, AmendmentStatus, PaymentStatus
from conventions.views.common import amendment_pdf_response, form_error_messages
from conventions.views.staff import ManageConventionMixin
from core import downloads
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin
from core.uploads import StreamedUploadMixin


class PrepareAmendmentView(ManageConventionMixin, View):
    """« Préparer un avenant » on a signed agreement: a new avenant in preparation."""

    def post(self, request, pk):
        convention = self.get_object()
        try:
            amendment = services.prepare_amendment(convention, by=request.user)
        except DomainError as error:
            error_messages(request, error)
            return self.back("avenants")
        messages.success(
            request, _("L'avenant n° %(n)s est en préparation.") % {"n": amendment.number}
        )
        return redirect("conventions:amendment_detail", pk=amendment.pk)


class AmendmentMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_read_conventions)
    model = Amendment
    context_object_name = "amendment"

    def get_queryset(self):
        return Amendment.objects.filter(
            convention__in=queries.conventions_visible_to(self.request.user)
        ).select_related("convention__organisation", "convention__call", "convention__lot")

    def back(self):
        return redirect("conventions:amendment_detail", pk=self.get_object().pk)


class ManageAmendmentMixin(AmendmentMixin):
    rule = staticmethod(rules.can_manage_conventions)


class AmendmentDetailView(AmendmentMixin, DetailView):
    template_name = "conventions/amendment.html"

    def get_context_data(self, **kwargs):
        amendment = self.object
        can_manage = rules.can_manage_conventions(self.request.user)
        draft = amendment.status == AmendmentStatus.DRAFT
        convention = amendment.convention
        moves = []
        if can_manage:
            for action in services.amendment_workflow.allowed_actions(amendment.status):
                if action != AmendmentAction.SIGN:
                    form_class = TerminateForm if action == AmendmentAction.CANCEL else NoteForm
                    moves.append((AmendmentAction(action), form_class(prefix=action)))
        return super().get_context_data(
            convention=convention,
            can_manage=can_manage,
            editable=can_manage and draft,
            kept=convention.payments.exclude(status=PaymentStatus.PLANNED),
            planned=convention.payments.filter(status=PaymentStatus.PLANNED),
            instalments=amendment.instalments.all(),
            history=amendment.status_changes.select_related("by"),
            moves=moves,
            form=AmendmentForm(
                prefix="amendment",
                initial={
                    "changes": amendment.changes,
                    "amount_after": amendment.amount_after,
                    "period_end_after": amendment.period_end_after,
                },
            ),
            instalment_form=PaymentForm(prefix="instalment"),
            signature_form=AmendmentSignatureForm(
                prefix="sign", initial={"signed_on": timezone.localdate()}
            ),
            **kwargs,
        )


class AmendmentUpdateView(ManageAmendmentMixin, View):
    def post(self, request, pk):
        amendment = self.get_object()
        form = AmendmentForm(request.POST, prefix="amendment")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back()
        try:
            services.update_amendment(amendment, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("L'avenant est enregistré."))
        return self.back()


class AmendmentInstalmentAddView(ManageAmendmentMixin, View):
    def post(self, request, pk):
        amendment = self.get_object()
        form = PaymentForm(request.POST, prefix="instalment")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back()
        try:
            services.save_amendment_instalment(amendment, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le versement est ajouté à l'échéancier de l'avenant."))
        return self.back()


class AmendmentInstalmentDeleteView(ObjectRuleMixin, View):
    rule = staticmethod(rules.can_manage_conventions)

    def get_queryset(self):
        return AmendmentInstalment.objects.filter(
            amendment__convention__in=queries.conventions_visible_to(self.request.user)
        ).select_related("amendment")

    def post(self, request, pk):
        instalment = self.get_object()
        try:
            services.delete_amendment_instalment(instalment, by=request.user)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le versement est retiré de l'échéancier de l'avenant."))
        return redirect("conventions:amendment_detail", pk=instalment.amendment_id)


class AmendmentTransitionView(ManageAmendmentMixin, View):
    """Send for signature, back to preparation, abandon (the signature has its form)."""

    DONE = {
        AmendmentAction.SEND: gettext_lazy("L'avenant est envoyé pour signature."),
        AmendmentAction.BACK_TO_DRAFT: gettext_lazy("L'avenant revient en préparation."),
        AmendmentAction.CANCEL: gettext_lazy("L'avenant est abandonné."),
    }

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404
        amendment = self.get_object()
        try:
            if action == AmendmentAction.CANCEL:
                form = TerminateForm(request.POST, prefix=action)
                reason = form.cleaned_data["reason"] if form.is_valid() else ""
                services.cancel_amendment(amendment, by=request.user, reason=reason)
            else:
                form = NoteForm(request.POST, prefix=action)
                note = form.cleaned_data["note"] if form.is_valid() else ""
                move = (
                    services.send_amendment
                    if action == AmendmentAction.SEND
                    else services.amendment_back_to_draft
                )
                move(amendment, by=request.user, note=note)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, str(self.DONE[action]))
        return self.back()


class AmendmentSignView(StreamedUploadMixin, ManageAmendmentMixin, View):
    max_bytes = services.SCAN_MAX_BYTES

    def receive(self, request, files, too_large, pk):
        amendment = self.get_object()
        if too_large:
            messages.error(
                request,
                _("Le fichier « %(name)s » dépasse 20 Mo : il n'a pas été enregistré.")
                % {"name": too_large[0]},
            )
            return self.back()
        form = AmendmentSignatureForm(request.POST, files, prefix="sign")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back()
        try:
            services.record_amendment_signature(
                amendment,
                by=request.user,
                signed_on=form.cleaned_data["signed_on"],
                uploaded=form.cleaned_data["file"],
            )
        except DomainError as error:
            error_messages(request, error)
            return self.back()
        messages.success(
            request,
            _("L'avenant n° %(n)s est signé : la convention en tient compte.")
            % {"n": amendment.number},
        )
        url = reverse("conventions:detail", args=[amendment.convention_id])
        return redirect(f"{url}#avenants")


class AmendmentPdfView(AmendmentMixin, View):
    """The avenant in preparation, marked as such, or the file sent for signature."""

    def get(self, request, pk):
        amendment = self.get_object()
        amendment.convention = (
            queries.convention_page(queries.conventions_visible_to(request.user))
            .filter(pk=amendment.convention_id)
            .get()
        )
        return amendment_pdf_response(amendment)


class AmendmentScanView(AmendmentMixin, View):
    def get(self, request, pk):
        amendment = self.get_object()
        if not amendment.signed_scan:
            raise Http404
        return downloads.stored_file(amendment.signed_scan, amendment.signed_scan_name)
