"""The Service IVE's screens of agreements, read by the DDETS: the dashboard, creation
from a decision, the agreement page and its moves, payments, reports, progress reviews,
indicators, renewal, exports."""

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
from conventions.articles import placeholders_help
from conventions.forms import (
    CreateConventionForm,
    DraftForm,
    NoteForm,
    PaymentForm,
    PaymentMoveForm,
    RemarkForm,
    ReviewForm,
    ReviewRecordForm,
    SendBackForm,
    SignatureForm,
    TerminateForm,
)
from conventions.models import Convention
from conventions.states import (
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    ReportStatus,
)
from conventions.views.common import (
    form_error_messages,
    indicator_charts,
    money_of,
    pdf_response,
    rectification_notice,
)
from core import downloads
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin, RuleMixin
from core.uploads import StreamedUploadMixin
from evaluation.models import Decision
from evaluation.states import DecisionOutcome


class StaffReadMixin(RuleMixin):
    rule = staticmethod(rules.can_read_conventions)


class StaffConventionMixin(ObjectRuleMixin):
    """One agreement, for instructeurs and the DDETS."""

    rule = staticmethod(rules.can_read_conventions)
    model = Convention
    context_object_name = "convention"

    def get_queryset(self):
        return queries.conventions_visible_to(self.request.user).select_related(
            "organisation", "call", "lot"
        )


class ManageConventionMixin(StaffConventionMixin):
    """A write on one agreement: instructeurs only (the DDETS gets 403)."""

    rule = staticmethod(rules.can_manage_conventions)

    def back(self, anchor=""):
        url = reverse("conventions:detail", args=[self.get_object().pk])
        return redirect(f"{url}#{anchor}" if anchor else url)


# --- Creation from a selected decision ----------------------------------------------------------


class CreateConventionView(ObjectRuleMixin, DetailView):
    """Confirm the period (by default from the month after the decision), then the
    agreement is prepared in draft with its schedule."""

    rule = staticmethod(rules.can_manage_conventions)
    template_name = "conventions/create.html"
    context_object_name = "decision"

    def get_queryset(self):
        return Decision.objects.filter(outcome=DecisionOutcome.SELECTED).select_related(
            "candidature__organisation", "candidature__call", "lot"
        )

    def get_context_data(self, **kwargs):
        decision = self.object
        start, end = services.default_period(decision)
        kwargs.setdefault(
            "form", CreateConventionForm(initial={"period_start": start, "period_end": end})
        )
        return super().get_context_data(
            existing=Convention.objects.filter(
                candidature=decision.candidature, lot=decision.lot
            ).order_by("-year"),
            terms=services.funding_terms(decision.candidature.call),
            decided_on=services.decision_date(decision),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.object = decision = self.get_object()
        form = CreateConventionForm(request.POST)
        if form.is_valid():
            try:
                convention = services.create_convention(
                    decision, by=request.user, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("La convention %(number)s est préparée en brouillon.")
                    % {"number": convention.number},
                )
                return redirect("conventions:detail", pk=convention.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- The agreement page -------------------------------------------------------------------------


MOVE_FORMS = {
    ConventionAction.TERMINATE: TerminateForm,
}


class ConventionDetailView(StaffConventionMixin, DetailView):
    template_name = "conventions/detail.html"

    def get_queryset(self):
        return queries.convention_page(super().get_queryset()).select_related("renewal")

    def get_context_data(self, **kwargs):
        convention = self.object
        user = self.request.user
        can_manage = rules.can_manage_conventions(user)
        payments = list(convention.payments.all())
        moves = []
        if can_manage:
            for action in services.convention_workflow.allowed_actions(convention.status):
                form_class = MOVE_FORMS.get(action, NoteForm)
                moves.append((ConventionAction(action), form_class(prefix=action)))
        payment_rows = []
        for payment in payments:
            actions = services.payment_workflow.allowed_actions(payment.status)
            action = PaymentAction(actions[0]) if actions else None
            form = (
                PaymentMoveForm(prefix=f"p{payment.pk}", action=action)
                if can_manage and action
                else None
            )
            payment_rows.append((payment, action, form))
        can_remark = rules.can_remark(user)
        review_rows = [
            (
                review,
                ReviewRecordForm(
                    prefix=f"record{review.pk}",
                    initial={"minutes": review.minutes, "adjustments": review.adjustments},
                )
                if can_manage
                else None,
                RemarkForm(prefix=f"remark{review.pk}") if can_remark else None,
            )
            for review in convention.reviews.all()
        ]
        reports = [
            (
                report,
                SendBackForm(prefix=f"back{report.pk}")
                if can_manage and report.status == ReportStatus.SUBMITTED
                else None,
            )
            for report in convention.reports.all()
        ]
        draft = convention.status == ConventionStatus.DRAFT
        return super().get_context_data(
            can_manage=can_manage,
            can_edit_schedule=can_manage and draft,
            draft_form=DraftForm(instance=convention, prefix="draft")
            if can_manage and draft
            else None,
            placeholders_help=placeholders_help(template=False),
            report_rows=reports,
            rectification=rectification_notice(convention),
            open_amendment=next(
                (a for a in convention.amendments.all() if a.status in ("draft", "sent")), None
            ),
            review_rows=review_rows,
            moves=moves,
            payment_rows=payment_rows,
            money=money_of(convention),
            indicators=indicator_charts(convention),
            has_renewal=hasattr(convention, "renewal"),
            can_renew=can_manage
            and not hasattr(convention, "renewal")
            and convention.status != ConventionStatus.TERMINATED,
            signature_form=SignatureForm(
                prefix="sign", initial={"signed_on": timezone.localdate()}
            ),
            payment_form=PaymentForm(prefix="payment"),
            review_form=ReviewForm(prefix="review"),
            **kwargs,
        )


class ConventionPdfView(StaffConventionMixin, View):
    """The draft as a PDF marked as such, or the file sent for signature."""

    def get_queryset(self):
        return queries.convention_page(super().get_queryset())

    def get(self, request, pk):
        return pdf_response(self.get_object())


class ScanDownloadView(StaffConventionMixin, View):
    def get(self, request, pk):
        convention = self.get_object()
        if not convention.signed_scan:
            raise Http404
        return downloads.stored_file(convention.signed_scan, convention.signed_scan_name)


# --- Status moves -------------------------------------------------------------------------------


class TransitionView(ManageConventionMixin, View):
    """Send, back to draft, start, settle, terminate (the signature has its own form)."""

    SERVICES = {
        ConventionAction.SEND: services.send_for_signature,
        ConventionAction.BACK_TO_DRAFT: services.back_to_draft,
        ConventionAction.START: services.start_convention,
        ConventionAction.SETTLE: services.settle_convention,
    }
    DONE = {
        ConventionAction.SEND: gettext_lazy("La convention est envoyée pour signature."),
        ConventionAction.BACK_TO_DRAFT: gettext_lazy("La convention revient au brouillon."),
        ConventionAction.START: gettext_lazy("L'exécution de la convention a démarré."),
        ConventionAction.SETTLE: gettext_lazy("La convention est soldée."),
        ConventionAction.TERMINATE: gettext_lazy("La convention est résiliée."),
    }

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404
        convention = self.get_object()
        try:
            if action == ConventionAction.TERMINATE:
                form = TerminateForm(request.POST, prefix=action)
                if not form.is_valid():
                    raise DomainError(_("Indiquez le motif de la résiliation."))
                services.terminate_convention(
                    convention, by=request.user, reason=form.cleaned_data["reason"]
                )
            else:
                form = NoteForm(request.POST, prefix=action)
                note = form.cleaned_data["note"] if form.is_valid() else ""
                self.SERVICES[action](convention, by=request.user, note=note)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, str(self.DONE[action]))
        return self.back("statut")


class SignView(StreamedUploadMixin, ManageConventionMixin, View):
    max_bytes = services.SCAN_MAX_BYTES

    def receive(self, request, files, too_large, pk):
        convention = self.get_object()
        if too_large:
            messages.error(
                request,
                _("Le fichier « %(name)s » dépasse 20 Mo : il n'a pas été enregistré.")
                % {"name": too_large[0]},
            )
            return self.back("statut")
        form = SignatureForm(request.POST, files, prefix="sign")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back("statut")
        try:
            services.record_signature(
                convention,
                by=request.user,
                signed_on=form.cleaned_data["signed_on"],
                uploaded=form.cleaned_data["file"],
            )
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("La signature est enregistrée avec la convention signée."))
        return self.back("statut")


class DraftView(ManageConventionMixin, View):
    """The draft's period and texts, edited before it is sent."""

    def post(self, request, pk):
        convention = self.get_object()
        form = DraftForm(request.POST, prefix="draft")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back("texte")
        try:
            services.update_draft(convention, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le projet de convention est enregistré."))
        return self.back("texte")


class RenewView(ManageConventionMixin, View):
    def post(self, request, pk):
        convention = self.get_object()
        try:
            renewal = services.renew_convention(convention, by=request.user)
        except DomainError as error:
            error_messages(request, error)
            return self.back()
        messages.success(
            request,
            _("La convention %(number)s de %(year)s est préparée en brouillon.")
            % {"number": renewal.number, "year": renewal.year},
        )
        return redirect("conventions:detail", pk=renewal.pk)
