"""The Service IVE's follow-up of an agreement: payments, reports, progress reviews (where
the DDETS adds its remarks), and a call's indicators and default payment terms."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView

from aap.models import Call
from conventions import queries, rules, services
from conventions.articles import placeholders_help
from conventions.forms import (
    FundingTermsForm,
    IndicatorFormSet,
    PaymentForm,
    PaymentMoveForm,
    RemarkForm,
    ReviewForm,
    ReviewRecordForm,
    SendBackForm,
)
from conventions.models import Payment, ProgressReview, Report
from conventions.states import PaymentAction
from conventions.views.common import form_error_messages
from conventions.views.staff import ManageConventionMixin
from core import downloads
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin

# --- Payments -----------------------------------------------------------------------------------


class PaymentAddView(ManageConventionMixin, View):
    def post(self, request, pk):
        convention = self.get_object()
        form = PaymentForm(request.POST, prefix="payment")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back("versements")
        try:
            services.save_payment(convention, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le versement est ajouté à l'échéancier."))
        return self.back("versements")


class PaymentMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_manage_conventions)
    context_object_name = "payment"

    def get_queryset(self):
        return Payment.objects.filter(
            convention__in=queries.conventions_visible_to(self.request.user)
        ).select_related("convention")

    def back(self):
        url = reverse("conventions:detail", args=[self.get_object().convention_id])
        return redirect(f"{url}#versements")


class PaymentEditView(PaymentMixin, DetailView):
    template_name = "conventions/payment_form.html"

    def get_context_data(self, **kwargs):
        payment = self.object
        kwargs.setdefault(
            "form",
            PaymentForm(
                initial={
                    "label": payment.label,
                    "due_on": payment.due_on,
                    "amount": payment.amount,
                    "condition": payment.condition,
                    "condition_date": payment.condition_date,
                }
            ),
        )
        return super().get_context_data(convention=payment.convention, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = payment = self.get_object()
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                services.save_payment(
                    payment.convention, by=request.user, payment=payment, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Le versement est modifié."))
                return self.back()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PaymentDeleteView(PaymentMixin, View):
    def post(self, request, pk):
        payment = self.get_object()
        try:
            services.delete_payment(payment, by=request.user)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le versement est retiré de l'échéancier."))
        return self.back()


class PaymentMoveView(PaymentMixin, View):
    """Requested, ordered (mandaté, with its accounting reference), paid."""

    DONE = {
        PaymentAction.REQUEST: gettext_lazy("La demande de versement est enregistrée."),
        PaymentAction.ORDER: gettext_lazy("Le mandatement est enregistré."),
        PaymentAction.PAY: gettext_lazy("Le versement est enregistré."),
    }

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404
        payment = self.get_object()
        form = PaymentMoveForm(request.POST, prefix=f"p{payment.pk}", action=action)
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back()
        try:
            services.move_payment(
                payment,
                action,
                by=request.user,
                on=form.cleaned_data["on"],
                reference=form.cleaned_data.get("reference", ""),
            )
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, str(self.DONE[action]))
        return self.back()


# --- Reports --------------------------------------------------------------------------------------


class StaffReportMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_read_conventions)

    def get_queryset(self):
        return Report.objects.filter(
            convention__in=queries.conventions_visible_to(self.request.user)
        ).select_related("convention")


class ReportDownloadView(StaffReportMixin, View):
    def get(self, request, pk):
        report = self.get_object()
        if not report.file:
            raise Http404
        return downloads.stored_file(report.file, report.file_name)


class ReportAcceptView(StaffReportMixin, View):
    rule = staticmethod(rules.can_manage_conventions)

    def post(self, request, pk):
        report = self.get_object()
        try:
            services.accept_report(report, by=request.user)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(
                request, _("Le %(kind)s est validé.") % {"kind": report.get_kind_display().lower()}
            )
        url = reverse("conventions:detail", args=[report.convention_id])
        return redirect(f"{url}#bilans")


class ReportSendBackView(StaffReportMixin, View):
    """The report goes back to the organisation with the reason, which it reads by e-mail
    and on its page."""

    rule = staticmethod(rules.can_manage_conventions)

    def post(self, request, pk):
        report = self.get_object()
        form = SendBackForm(request.POST, prefix=f"back{report.pk}")
        try:
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.send_back_report(report, by=request.user, reason=reason)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(
                request,
                _("Le %(kind)s est renvoyé à la structure.")
                % {"kind": report.get_kind_display().lower()},
            )
        url = reverse("conventions:detail", args=[report.convention_id])
        return redirect(f"{url}#bilans")


# --- Progress reviews -------------------------------------------------------------------------------


class ReviewAddView(ManageConventionMixin, View):
    def post(self, request, pk):
        convention = self.get_object()
        form = ReviewForm(request.POST, prefix="review")
        if not form.is_valid():
            form_error_messages(request, form)
            return self.back("points-etape")
        data = form.cleaned_data
        services.schedule_review(
            convention,
            by=request.user,
            scheduled_at=data["scheduled_at"],
            place=data["place"],
            participants=data["participants"],
        )
        messages.success(request, _("Le point d'étape est programmé."))
        return self.back("points-etape")


class ReviewMixin(ObjectRuleMixin):
    context_object_name = "review"

    def get_queryset(self):
        return ProgressReview.objects.filter(
            convention__in=queries.conventions_visible_to(self.request.user)
        ).select_related("convention")

    def back(self):
        review = self.get_object()
        url = reverse("conventions:detail", args=[review.convention_id])
        return redirect(f"{url}#point-{review.pk}")


class ReviewRecordView(ReviewMixin, View):
    rule = staticmethod(rules.can_manage_conventions)

    def post(self, request, pk):
        review = self.get_object()
        form = ReviewRecordForm(request.POST, prefix=f"record{review.pk}")
        try:
            if not form.is_valid():
                raise DomainError(_("Le compte rendu est vide."))
            services.record_review(review, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Le compte rendu du point d'étape est enregistré."))
        return self.back()


class RemarkView(ReviewMixin, View):
    """The only write of the DDETS on agreements."""

    rule = staticmethod(rules.can_remark)

    def post(self, request, pk):
        review = self.get_object()
        form = RemarkForm(request.POST, prefix=f"remark{review.pk}")
        try:
            if not form.is_valid():
                raise DomainError(_("Écrivez votre remarque."))
            services.add_remark(review, by=request.user, text=form.cleaned_data["text"])
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(request, _("Votre remarque est enregistrée."))
        return self.back()


# --- A call's indicators and payment terms ------------------------------------------------------------


class CallIndicatorsView(ObjectRuleMixin, DetailView):
    """The indicators the agreements of a call report on, and its default payment terms."""

    rule = staticmethod(rules.can_manage_conventions)
    template_name = "conventions/call_indicators.html"
    context_object_name = "call"

    def get_queryset(self):
        return Call.objects.all()

    def get_forms(self, data=None):
        call = self.object
        return (
            IndicatorFormSet(data, instance=call, prefix="items"),
            FundingTermsForm(data, instance=services.funding_terms(call), prefix="terms"),
        )

    def get_context_data(self, **kwargs):
        if "formset" not in kwargs:
            kwargs["formset"], kwargs["terms_form"] = self.get_forms()
        return super().get_context_data(
            placeholders_help=placeholders_help(template=True), **kwargs
        )

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        formset, terms_form = self.get_forms(request.POST)
        if not (formset.is_valid() and terms_form.is_valid()):
            messages.error(request, _("Le formulaire contient des erreurs : corrigez-les."))
            return self.render_to_response(
                self.get_context_data(formset=formset, terms_form=terms_form), status=400
            )
        with transaction.atomic():
            formset.save()
            terms_form.save()
        messages.success(
            request,
            _(
                "Les indicateurs, les modalités de versement et le modèle des conventions sont enregistrés."
            ),
        )
        return redirect("conventions:call_indicators", pk=call.pk)
