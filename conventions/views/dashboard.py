"""Staff: every agreement with its money and what needs action, and the exports."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from aap.models import Call, Lot
from conventions import charts, exports, opendata, queries, rules
from conventions.forms import (
    DashboardFilterForm,
)
from conventions.views.staff import StaffReadMixin
from core import downloads, spreadsheets


def filtered(request):
    """The agreements the user sees, filtered by the dashboard's year, call and lot, and
    the bound filter form."""
    visible = queries.conventions_visible_to(request.user)
    years = list(visible.order_by("-year").values_list("year", flat=True).distinct())
    calls = Call.objects.filter(pk__in=visible.values("call")).order_by("-year", "reference")
    lots = (
        Lot.objects.filter(pk__in=visible.values("lot"))
        .select_related("call")
        .order_by("call__reference", "position")
    )
    form = DashboardFilterForm(request.GET or None, years=years, calls=calls, lots=lots)
    selection = visible
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["year"]:
            selection = selection.filter(year=data["year"])
        if data["call"]:
            selection = selection.filter(call=data["call"])
        if data["lot"]:
            selection = selection.filter(lot=data["lot"])
    return selection, form, lots


class DashboardView(StaffReadMixin, TemplateView):
    template_name = "conventions/dashboard.html"

    def get_context_data(self, **kwargs):
        selection, form, lots = filtered(self.request)
        rows = list(
            queries.with_money_and_flags(
                selection.select_related("organisation", "lot", "call")
            ).order_by("-year", "number")
        )
        lot_labels = {lot.pk: f"{lot.call.reference} – {lot.name}" for lot in lots}
        by_lot = queries.totals_by(selection, "lot")
        for row in by_lot:
            row["label"] = lot_labels.get(row["key"], row["key"])
        by_call = queries.totals_by(selection, "call__reference")
        by_year = queries.totals_by(selection, "year")
        for row in [*by_call, *by_year]:
            row["label"] = row["key"]
        groups = [
            ("lot", _("par lot"), charts.money(by_lot)),
            ("call", _("par appel à projets"), charts.money(by_call)),
            ("year", _("par année"), charts.money(by_year)),
        ]
        return super().get_context_data(
            filter_form=form,
            conventions=rows,
            totals=queries.totals(selection),
            groups=groups,
            query=self.request.GET.urlencode(),
            can_manage=rules.can_manage_conventions(self.request.user),
            opendata_ready=opendata.is_configured(),
            opendata_without_deliberation=list(
                opendata.without_deliberation().values_list("number", flat=True)
            ),
            **kwargs,
        )


class ExportView(StaffReadMixin, View):
    """XLSX of the dashboard's agreements or of their payments, with the same filters."""

    def get(self, request, what):
        selection, _form, _lots = filtered(request)
        if what == "conventions":
            content = exports.conventions_xlsx(
                queries.with_money_and_flags(
                    selection.select_related("organisation", "lot", "call")
                ).order_by("-year", "number")
            )
            filename = "conventions.xlsx"
        elif what == "versements":
            content = exports.payments_xlsx(selection.values("pk"))
            filename = "versements.xlsx"
        else:
            raise Http404
        return downloads.document(content, filename, spreadsheets.XLSX_TYPE)
