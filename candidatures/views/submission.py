"""Submitting a dossier, withdrawing it before the deadline, its receipts."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from candidatures import funding_request, queries, receipts, services
from candidatures.forms import (
    CertifyForm,
    WithdrawForm,
)
from candidatures.views.candidate import DossierMixin, dossier_context, received_at
from core import downloads
from core.exceptions import DomainError


class SubmitView(DossierMixin, DetailView):
    """The confirmation step: everything shown, the certification box, then the deposit."""

    template_name = "candidatures/submit.html"
    # Run again if the database restarts meanwhile, with the same instant of arrival: a
    # second run finds the dossier submitted if the first had committed.
    retry_on_lost_database = True

    def get_queryset(self):
        # The deposit reads only the dossier's row (the service locks it and reads what it
        # checks): the whole dossier, fetched for the page, is read again only when a
        # refusal shows the page again. At the deadline each deposit costs a quarter less
        # (32 queries instead of 43, 29 ms of CPU instead of 40).
        queryset = super().get_queryset()
        return queryset if self.request.method == "POST" else queries.dossier_page(queryset)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=CertifyForm()))

    def post(self, request, *args, **kwargs):
        when = received_at(request)
        self.object = candidature = self.get_object()
        form = CertifyForm(request.POST)
        if not form.is_valid():
            return self.page_again(form, status=400)
        try:
            receipt = services.submit_candidature(
                candidature, by=request.user, received_at=when, certified=True
            )
        except services.AlreadySubmitted as error:
            # A double click, or a run again after a database restart: the proof again.
            messages.info(request, error.message)
            if error.receipt is None:
                return redirect("candidatures:dossier", pk=candidature.pk)
            return self.submitted(request, candidature, error.receipt)
        except DomainError as error:
            form.add_error(None, error.message)
            for problem in error.problems:
                form.add_error(None, problem)
            return self.page_again(form, status=409)
        messages.success(request, receipts.submitted_message(receipt))
        return self.submitted(request, candidature, receipt)

    @staticmethod
    def submitted(request, candidature, receipt):
        """The answer itself carries the receipt (not a redirect): a candidate whose next
        page fails, while the database restarts, still holds the proof of the deposit."""
        return render(
            request,
            "candidatures/submitted.html",
            {
                "candidature": candidature,
                "receipt": receipt,
                "submitted_at": receipts.format_datetime(receipt.submitted_at, seconds=True),
            },
        )

    def page_again(self, form, *, status: int):
        """The confirmation page after a refusal: the whole dossier, as it is now."""
        self.object = queries.dossier_page(super().get_queryset()).get(pk=self.object.pk)
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**dossier_context(self.object), **kwargs)


class WithdrawView(DossierMixin, DetailView):
    template_name = "candidatures/withdraw.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=WithdrawForm()))

    def post(self, request, *args, **kwargs):
        when = received_at(request)
        self.object = candidature = self.get_object()
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                services.withdraw_candidature(
                    candidature, by=request.user, received_at=when, note=form.cleaned_data["note"]
                )
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("candidatures:dossier", pk=candidature.pk)
            messages.success(
                request,
                _(
                    "Le dossier est retiré et repasse en brouillon ; son accusé de réception est "
                    "remplacé. Pensez à le déposer à nouveau avant la date limite."
                ),
            )
        return redirect("candidatures:dossier", pk=candidature.pk)


class FundingRequestDownloadView(DossierMixin, View):
    """The dossier de demande made from the answers of one submission (calls that ask
    for it)."""

    def get(self, request, pk, receipt_id):
        candidature = self.get_object()
        if not candidature.call.funding_request_generated:
            raise Http404
        receipt = get_object_or_404(candidature.receipts.all(), pk=receipt_id)
        return downloads.document(
            funding_request.funding_request_pdf(receipt.pk),
            funding_request.funding_request_filename(receipt),
            "application/pdf",
        )


class ReceiptDownloadView(DossierMixin, View):
    def get(self, request, pk, receipt_id):
        candidature = self.get_object()
        receipt = get_object_or_404(candidature.receipts.all(), pk=receipt_id)
        return downloads.document(
            receipts.receipt_pdf(receipt.pk), receipts.receipt_filename(receipt), "application/pdf"
        )
