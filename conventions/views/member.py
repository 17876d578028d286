"""The organisation's screens of its agreements: payments received and expected, reports
to send, indicator values to enter, reviews to come, the PDF and the signed scan.

Another organisation's agreement, like the staff, gets 404 here: the queryset holds only
the agreements of the user's organisations.
"""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from conventions import queries, rules, services
from conventions.dates import quarter_bounds, quarter_of
from conventions.forms import IndicatorValuesForm, ReportUploadForm
from conventions.models import Convention
from conventions.services.followup import REPORTING_STATUSES
from conventions.states import AmendmentStatus, PaymentStatus
from conventions.views.common import (
    amendment_pdf_response,
    indicator_charts,
    money_of,
    pdf_response,
)
from core import downloads
from core import rules as core_rules
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin, RuleMixin
from core.uploads import StreamedUploadMixin

# The avenants the organisation sees: those sent to it for signature, and signed.
SHOWN_AMENDMENTS = (AmendmentStatus.SENT, AmendmentStatus.SIGNED)


class MyConventionsView(RuleMixin, TemplateView):
    rule = staticmethod(core_rules.is_candidat)
    template_name = "conventions/my_conventions.html"

    def get_context_data(self, **kwargs):
        conventions = queries.with_money_and_flags(
            Convention.objects.of_member(self.request.user).select_related(
                "organisation", "lot", "call"
            )
        ).order_by("-year", "number")
        return super().get_context_data(conventions=conventions, **kwargs)


class MemberConventionMixin(ObjectRuleMixin):
    rule = staticmethod(rules.is_convention_member)
    model = Convention
    context_object_name = "convention"

    def get_queryset(self):
        return Convention.objects.of_member(self.request.user).select_related(
            "organisation", "call", "lot"
        )

    def back(self, anchor=""):
        url = reverse("conventions:my_convention", args=[self.get_object().pk])
        return redirect(f"{url}#{anchor}" if anchor else url)


class MemberConventionView(MemberConventionMixin, DetailView):
    template_name = "conventions/member_detail.html"

    def get_queryset(self):
        return queries.convention_page(super().get_queryset())

    def get_context_data(self, **kwargs):
        convention = self.object
        payments = list(convention.payments.all())
        now = timezone.now()
        reviews = list(convention.reviews.all())
        return super().get_context_data(
            money=money_of(convention),
            received=[p for p in payments if p.status == PaymentStatus.PAID],
            expected=[p for p in payments if p.status != PaymentStatus.PAID],
            upcoming_reviews=[r for r in reviews if not r.held and r.scheduled_at >= now],
            past_reviews=[r for r in reviews if r.held or r.scheduled_at < now],
            indicators=indicator_charts(convention),
            amendments=[a for a in convention.amendments.all() if a.status in SHOWN_AMENDMENTS],
            can_report=convention.status in REPORTING_STATUSES,
            upload_form=ReportUploadForm(),
            today=timezone.localdate(),
            **kwargs,
        )


class MemberPdfView(MemberConventionMixin, View):
    def get_queryset(self):
        return queries.convention_page(super().get_queryset())

    def get(self, request, pk):
        return pdf_response(self.get_object())


class MemberScanView(MemberConventionMixin, View):
    def get(self, request, pk):
        convention = self.get_object()
        if not convention.signed_scan:
            raise Http404
        return downloads.stored_file(convention.signed_scan, convention.signed_scan_name)


class MemberAmendmentMixin(MemberConventionMixin):
    def get_queryset(self):
        return queries.convention_page(super().get_queryset())

    def amendment(self, amendment_id):
        return get_object_or_404(
            self.get_object().amendments.filter(status__in=SHOWN_AMENDMENTS), pk=amendment_id
        )


class MemberAmendmentPdfView(MemberAmendmentMixin, View):
    """The avenant exactly as sent for signature."""

    def get(self, request, pk, amendment_id):
        amendment = self.amendment(amendment_id)
        amendment.convention = self.get_object()
        return amendment_pdf_response(amendment)


class MemberAmendmentScanView(MemberAmendmentMixin, View):
    def get(self, request, pk, amendment_id):
        amendment = self.amendment(amendment_id)
        if not amendment.signed_scan:
            raise Http404
        return downloads.stored_file(amendment.signed_scan, amendment.signed_scan_name)


class MemberReportDownloadView(MemberConventionMixin, View):
    def get(self, request, pk, report_id):
        report = get_object_or_404(self.get_object().reports.all(), pk=report_id)
        if not report.file:
            raise Http404
        return downloads.stored_file(report.file, report.file_name)


class ReportUploadView(StreamedUploadMixin, MemberConventionMixin, View):
    """The organisation sends a report; it can replace it until the Département validates it."""

    max_bytes = services.REPORT_MAX_BYTES

    def receive(self, request, files, too_large, pk, report_id):
        convention = self.get_object()
        report = get_object_or_404(convention.reports.all(), pk=report_id)
        if too_large:
            messages.error(
                request,
                _("Le fichier « %(name)s » dépasse 30 Mo : il n'a pas été enregistré.")
                % {"name": too_large[0]},
            )
            return self.back("bilans")
        form = ReportUploadForm(request.POST, files)
        if not form.is_valid():
            messages.error(request, form.errors["file"][0])
            return self.back("bilans")
        try:
            services.submit_report(report, by=request.user, uploaded=form.cleaned_data["file"])
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(
                request,
                _("Votre %(kind)s est transmis au Service Insertion Vers l'Emploi.")
                % {"kind": report.get_kind_display().lower()},
            )
        return self.back("bilans")


def current_period(convention) -> int:
    """The agreement's quarter today falls in (the first before the start, the last after
    the end)."""
    return min(quarter_of(convention.period_start, timezone.localdate()), convention.quarters)


class IndicatorsView(MemberConventionMixin, DetailView):
    """The values of one quarter, one field per indicator, with the chart of each."""

    template_name = "conventions/member_indicators.html"

    def get_queryset(self):
        return queries.convention_page(super().get_queryset())

    def period(self) -> int:
        try:
            period = int(self.request.GET.get("trimestre", ""))
        except ValueError:
            return current_period(self.object)
        return period if 1 <= period <= self.object.quarters else current_period(self.object)

    def get_form(self, data=None, period=None):
        convention = self.object
        period = period or self.period()
        values = {
            entry.indicator_id: entry
            for entry in convention.indicator_values.all()
            if entry.period == period
        }
        return IndicatorValuesForm(
            data,
            indicators=convention.call.indicators.all(),
            quarters=convention.quarters,
            values=values,
            initial={"period": period},
        )

    def get_context_data(self, **kwargs):
        convention = self.object
        kwargs.setdefault("form", self.get_form())
        kwargs.setdefault("period", self.period())
        start, end = quarter_bounds(convention.period_start, kwargs["period"])
        return super().get_context_data(
            indicators=indicator_charts(convention),
            periods=range(1, convention.quarters + 1),
            period_start=start,
            period_end=end,
            can_report=convention.status in REPORTING_STATUSES,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.object = convention = self.get_object()
        form = self.get_form(request.POST)
        if not form.is_valid():
            messages.error(request, _("Certaines valeurs ne sont pas valables : corrigez-les."))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        period = form.cleaned_data["period"]
        context = {"form": form, "period": period}
        entries = form.entries()
        if not entries:
            messages.error(request, _("Renseignez au moins une valeur."))
            return self.render_to_response(self.get_context_data(**context), status=400)
        try:
            with transaction.atomic():
                for indicator, value, comment in entries:
                    services.report_indicator(
                        convention,
                        indicator,
                        by=request.user,
                        period=period,
                        value=value,
                        comment=comment,
                    )
        except DomainError as error:
            error_messages(request, error)
            return self.render_to_response(self.get_context_data(**context), status=409)
        messages.success(
            request,
            _("Les valeurs du trimestre %(n)s sont enregistrées.") % {"n": period},
        )
        url = reverse("conventions:indicators", args=[convention.pk])
        return redirect(f"{url}?trimestre={period}")
