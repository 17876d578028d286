"""Rankings of a call's lots, their exports and committee records: instructeurs and the
DDETS read them, instructeurs freeze a record at a meeting of the committee."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from aap.models import Call, Lot
from aap.states import CallStatus
from candidatures.states import CandidatureStatus
from core import downloads, spreadsheets
from core.dates import format_datetime
from core.exceptions import DomainError
from core.messages import error_messages
from core.pdf import render_pdf
from core.permissions import RuleMixin
from evaluation import charts, committee, exports, queries, rules
from evaluation.models import CommitteeMeeting, CommitteeRecord, quorum_problems

EVALUATION_STATUSES = [
    CallStatus.CLOSED,
    CallStatus.UNDER_REVIEW,
    CallStatus.DECIDED,
    CallStatus.ARCHIVED,
]


class RankingsIndexView(RuleMixin, TemplateView):
    """The calls whose dossiers are being evaluated, with a ranking per lot."""

    rule = staticmethod(rules.can_read_rankings)
    template_name = "evaluation/rankings_index.html"

    def get_context_data(self, **kwargs):
        calls = (
            Call.objects.filter(status__in=EVALUATION_STATUSES)
            .prefetch_related("lots")
            .annotate(
                submitted=Count(
                    "candidatures", filter=Q(candidatures__status=CandidatureStatus.SUBMITTED)
                )
            )
            .order_by("-deadline")
        )
        return super().get_context_data(calls=calls, **kwargs)


class RankingView(RuleMixin, TemplateView):
    """The ranking of one lot: instructeurs and the DDETS read it."""

    rule = staticmethod(rules.can_read_rankings)
    template_name = "evaluation/ranking.html"

    def get_lot(self):
        if not hasattr(self, "_lot"):
            self._lot = get_object_or_404(
                Lot.objects.select_related("call").filter(call__status__in=EVALUATION_STATUSES),
                pk=self.kwargs["lot"],
                call_id=self.kwargs["pk"],
            )
        return self._lot

    def blind_count(self) -> int:
        """How many dossiers of the lot the user still evaluates: while there are any, the
        ranking, its exports and its record stay closed to them (blind scoring)."""
        return len(queries.blind_dossier_ids(self.request.user, lot=self.get_lot()))

    def blind_refusal(self, count: int) -> str:
        return ngettext(
            "Vous évaluez encore %(n)s dossier de ce lot : son classement, ses notes et ses "
            "exports s'affichent pour vous quand votre évaluation est déposée (notation à "
            "l'aveugle).",
            "Vous évaluez encore %(n)s dossiers de ce lot : son classement, ses notes et ses "
            "exports s'affichent pour vous quand vos évaluations sont déposées (notation à "
            "l'aveugle).",
            count,
        ) % {"n": count}

    def records(self, lot) -> list:
        """The lot's records, each with the decisions rectified after it and the dossiers
        admitted after it by a rectification of their inadmissibility."""
        records = list(lot.committee_records.select_related("meeting", "created_by"))
        rectified = queries.rectified_after(records)
        admitted = queries.admitted_after(records)
        for record in records:
            record.rectified = rectified[record.pk]
            record.admitted = admitted[record.pk]
        return records

    def get_context_data(self, **kwargs):
        lot = self.get_lot()
        kwargs.pop("lot", None)  # the URL's lot id; the context gets the Lot itself
        meetings = list(committee.held_meetings(lot.call))
        meeting = meetings[-1] if meetings else None
        context = {
            "call": lot.call,
            "lot": lot,
            "lots": lot.call.lots.all(),
            "records": self.records(lot),
            "can_run": rules.can_run_evaluation(self.request.user),
            "meetings": meetings,
            "meeting": meeting,
            "planned": CommitteeMeeting.objects.filter(
                call=lot.call, starts_at__gt=timezone.now()
            ).exists(),
            "quorum_problems": quorum_problems(meeting, lot),
        }
        if blind := self.blind_count():
            context["blind"] = self.blind_refusal(blind)
        else:
            table = exports.ranking_table(lot)
            context.update(
                table=table,
                rows=exports.page_rows(table),
                distribution=charts.distribution(table.dossiers),
            )
        return super().get_context_data(**context, **kwargs)


class RankingExportView(RankingView):
    def get(self, request, *args, **kwargs):
        lot = self.get_lot()
        if blind := self.blind_count():
            messages.error(request, self.blind_refusal(blind))
            return redirect("evaluation:ranking", pk=lot.call_id, lot=lot.pk)
        table = exports.ranking_table(lot)
        stem = f"classement-{lot.call.reference}-{lot.pk}"
        fmt = kwargs["fmt"]
        if fmt == "csv":
            chunks = exports.csv_chunks(table)
            return downloads.streamed(chunks, f"{stem}.csv", spreadsheets.CSV_TYPE)
        if fmt == "xlsx":
            content, content_type = exports.to_xlsx(table), spreadsheets.XLSX_TYPE
        elif fmt == "pdf":
            context = committee.ranking_pdf_context(
                lot, when=timezone.now(), by=request.user, table=table
            )
            content = render_pdf("evaluation/pdf/committee.html", {**context, "draft": True})
            content_type = "application/pdf"
        else:
            raise Http404
        return downloads.document(content, f"{stem}.{fmt}", content_type)


class CommitteeRecordView(RankingView):
    """Freeze the lot's ranking as the committee's record at one of its meetings (POST);
    GET shows the ranking. Records are downloaded through ``CommitteeRecordDownloadView``."""

    rule = staticmethod(rules.can_run_evaluation)

    def post(self, request, *args, **kwargs):
        lot = self.get_lot()
        back = redirect("evaluation:ranking", pk=lot.call_id, lot=lot.pk)
        if blind := self.blind_count():
            messages.error(request, self.blind_refusal(blind))
            return back
        meeting = None
        if meeting_id := request.POST.get("meeting"):
            meeting = get_object_or_404(
                CommitteeMeeting.objects.filter(call=lot.call), pk=meeting_id
            )
        try:
            record = committee.freeze_committee(lot.call, lot, by=request.user, meeting=meeting)
        except DomainError as error:
            error_messages(request, error)
            return back
        messages.success(
            request,
            _("Le classement est figé dans le procès-verbal du %(date)s.")
            % {"date": format_datetime(record.created_at)},
        )
        return back


class CommitteeRecordDownloadView(RuleMixin, View):
    rule = staticmethod(rules.can_read_rankings)

    def get(self, request, pk):
        record = get_object_or_404(CommitteeRecord, pk=pk)
        return downloads.stored_file(
            record.pdf, f"proces-verbal-{record.call.reference}-{record.lot.name}.pdf"
        )
