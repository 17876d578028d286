"""The staff's list of a call's dossiers: its columns, search, sort, export and bulk
actions.

This app declares the columns it knows (organisation, SIRET, receipt, status,
completeness, pieces, paper copy, last message); the apps above add theirs through
``register_columns`` (the evaluation: admissibility and score) and their bulk actions
through ``register_bulk_action`` (the evaluation: assign an evaluator). Each column
annotates the queryset once, so that a page, a sort, a search and an export cost the
same number of queries whatever the number of dossiers, answers or messages.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from django import forms
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aap.models import OrganisationKind
from candidatures.models import Answer, Candidature, Message, Receipt
from candidatures.states import CandidatureStatus
from core.dates import format_datetime


@dataclass(frozen=True)
class Column:
    """One column: ``value`` is the typed cell of the exports, ``text`` what the page
    shows (the value by default); ``order`` the annotation or field it sorts on."""

    key: str
    label: str
    value: Callable[[Candidature], object]
    order: str | None = None
    annotate: Callable[[QuerySet], QuerySet] | None = None
    text: Callable[[Candidature], str] | None = None
    money: bool = False

    def display(self, dossier) -> str:
        if self.text is not None:
            return self.text(dossier)
        value = self.value(dossier)
        return "—" if value in (None, "") else str(value)


@dataclass(frozen=True)
class BulkAction:
    """An action on the ticked dossiers: ``form`` holds its own fields (prefixed by its
    key), ``run(dossiers, by=…, **cleaned)`` does it through the services and returns
    how many dossiers it changed, ``done(n)`` says so in French."""

    key: str
    label: str
    form: type[forms.Form]
    run: Callable[..., int]
    done: Callable[[int], str]
    form_kwargs: Callable[[object], dict] = field(default=lambda call: {})


_extra_columns: list[Callable[[], list[Column]]] = []
_bulk_actions: list[BulkAction] = []


def register_columns(provider: Callable[[], list[Column]]) -> None:
    if provider not in _extra_columns:
        _extra_columns.append(provider)


def register_bulk_action(action: BulkAction) -> None:
    if action.key not in {known.key for known in _bulk_actions}:
        _bulk_actions.append(action)


def bulk_actions() -> list[BulkAction]:
    return list(_bulk_actions)


# --- This app's columns ----------------------------------------------------------------------


def _date(value):
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _datetime(value):
    return format_datetime(value) if value else "—"


def _with_receipt(queryset):
    latest = Receipt.objects.filter(candidature=OuterRef("pk")).order_by("-sequence")
    return queryset.annotate(receipt_number=Subquery(latest.values("number")[:1]))


def _with_last_message(queryset):
    latest = Message.objects.filter(candidature=OuterRef("pk")).order_by("-created_at")
    return queryset.annotate(
        last_message_at=Subquery(latest.values("created_at")[:1]),
        last_message_from_staff=Subquery(latest.values("from_staff")[:1]),
    )


def _lots(dossier) -> str:
    names = getattr(dossier, "lot_names", None)
    if names is None:
        names = [lot.name for lot in dossier.lots.all()]
    return ", ".join(names)


def attach_lot_names(dossiers: list[Candidature]) -> list[Candidature]:
    """Give each dossier its ``lot_names``, in the call's order, in one query of plain
    values: ``prefetch_related`` would build a manager, a queryset and models per row."""
    names = {dossier.pk: [] for dossier in dossiers}
    chosen = (
        Candidature.lots.through.objects.filter(candidature__in=list(names))
        .order_by("lot__position", "lot__pk")
        .values_list("candidature_id", "lot__name")
    )
    for pk, name in chosen:
        names[pk].append(name)
    for dossier in dossiers:
        dossier.lot_names = names[dossier.pk]
    return dossiers


def _complete(dossier) -> bool:
    return not (dossier.missing_documents or dossier.missing_answers or not dossier.lot_count)


def _paper_copy(dossier):
    copy = getattr(dossier, "paper_copy", None)
    return copy.received_on if copy else None


def _labels(choices) -> Callable[[str], str]:
    """``get_FOO_display`` for a whole list: the labels translated once, not per row."""
    labels = {value: str(label) for value, label in choices}
    return lambda value: labels.get(value, value)


def base_columns() -> list[Column]:
    # Words translated once per list: a page shows 50 rows, an export every dossier.
    kind = _labels(OrganisationKind.choices)
    status = _labels(CandidatureStatus.choices)
    yes, no = str(_("oui")), str(_("non"))
    received = str(_("reçu le %(date)s"))
    by_staff, by_candidate = str(_("service")), str(_("candidat"))

    def last_message_text(dossier) -> str:
        if dossier.last_message_at is None:
            return "—"
        who = by_staff if dossier.last_message_from_staff else by_candidate
        return f"{_datetime(dossier.last_message_at)} ({who})"

    def paper_copy_text(dossier) -> str:
        received_on = _paper_copy(dossier)
        return received % {"date": _date(received_on)} if received_on else "—"

    return [
        Column(
            "structure", _("Structure"), lambda d: d.organisation.name, order="organisation__name"
        ),
        Column("siret", _("SIRET"), lambda d: d.organisation.siret, order="organisation__siret"),
        Column(
            "type",
            _("Type"),
            lambda d: kind(d.organisation.kind),
            order="organisation__kind",
        ),
        Column("lots", _("Lots"), _lots),
        Column(
            "recepisse",
            _("N° d'accusé de réception"),
            lambda d: d.receipt_number,
            order="receipt_number",
            annotate=_with_receipt,
        ),
        Column("statut", _("Statut"), lambda d: status(d.status), order="status"),
        Column(
            "depot",
            _("Déposé le"),
            lambda d: d.submitted_at,
            order="submitted_at",
            text=lambda d: _datetime(d.submitted_at),
        ),
        Column("complet", _("Complet"), lambda d: yes if _complete(d) else no),
        Column(
            "pieces",
            _("Pièces"),
            lambda d: d.document_count,
            order="document_count",
            text=lambda d: f"{d.document_count} ({filesizeformat(d.total_size)})",
        ),
        Column(
            "papier",
            _("Exemplaire papier"),
            _paper_copy,
            order="paper_copy__received_on",
            text=paper_copy_text,
        ),
        Column(
            "message",
            _("Dernier message"),
            lambda d: d.last_message_at,
            order="last_message_at",
            annotate=_with_last_message,
            text=last_message_text,
        ),
    ]


def columns() -> list[Column]:
    found = base_columns()
    for provider in _extra_columns:
        found += provider()
    return found


def annotate(queryset, cols: list[Column]):
    for column in cols:
        if column.annotate is not None:
            queryset = column.annotate(queryset)
    return queryset


# --- Search ----------------------------------------------------------------------------------


def search(queryset, text: str):
    """Dossiers whose organisation, SIRET, receipt number or answers match ``text``.

    On PostgreSQL the organisation's name and the answers are searched in full text with
    the French configuration (« communautés » finds « communauté »), besides a plain
    substring match; elsewhere (SQLite, the demo) by substring only."""
    text = " ".join(text.split())[:200]
    if not text:
        return queryset
    receipts = Receipt.objects.filter(candidature=OuterRef("pk"), number__icontains=text)
    answers = Answer.objects.filter(candidature=OuterRef("pk")).annotate(
        text=Cast("value", TextField())
    )
    condition = Q(organisation__name__icontains=text) | Exists(receipts)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "")) - 1:
        condition |= Q(organisation__siret__contains=digits)
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config="french", search_type="websearch")
        matching = answers.annotate(document=SearchVector("text", config="french")).filter(
            Q(document=query) | Q(text__icontains=text)
        )
        queryset = queryset.annotate(
            name_document=SearchVector("organisation__name", config="french")
        )
        condition |= Q(name_document=query)
    else:
        # SQLite keeps JSON with its non-ASCII letters escaped (« communaut\u00e9 »).
        escaped = json.dumps(text)[1:-1]
        matching = answers.filter(Q(text__icontains=text) | Q(text__icontains=escaped))
    return queryset.filter(condition | Exists(matching))


# --- Sort ------------------------------------------------------------------------------------

DEFAULT_SORT = "structure"


def sort(queryset, key: str, cols: list[Column]) -> tuple[QuerySet, str]:
    """``key`` is a column's key, « -key » for descending; empty values always last.
    Returns the queryset and the key actually applied (the default when unknown)."""
    descending = key.startswith("-")
    by_key = {column.key: column for column in cols if column.order}
    column = by_key.get(key.lstrip("-"))
    if column is None:
        column, descending, key = by_key[DEFAULT_SORT], False, DEFAULT_SORT
    expression = F(column.order)
    expression = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return queryset.order_by(expression, "organisation__name", "pk"), key


def sort_links(cols: list[Column], current: str, query: str) -> list[dict]:
    """Each column's header: its link (toggling the order on the current column) and
    its ``aria-sort``."""
    links = []
    for column in cols:
        entry = {"column": column, "url": None, "aria": None}
        if column.order:
            if current.lstrip("-") == column.key:
                descending = current.startswith("-")
                entry["aria"] = "descending" if descending else "ascending"
                target = column.key if descending else f"-{column.key}"
            else:
                target = column.key
            entry["url"] = f"?{query + '&' if query else ''}tri={target}"
        links.append(entry)
    return links


# --- The page's rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRow:
    pk: int
    tick_label: str  # the tick box's, for bulk actions
    cells: str  # safe HTML: the row's cells, in the columns' order


def page_rows(dossiers, cols: list[Column]) -> list[PageRow]:
    """The page's rows with each cell written here once: in the template, each of the 50
    × 13 cells cost a dozen nodes, a translation and, on the first, a ``reverse``. The
    organisation links to the dossier; the status is the dossier's badge."""
    marker = 2_147_483_647
    before, after = reverse("candidatures:staff_dossier", args=[marker]).split(str(marker))
    tick = gettext("Cocher le dossier de %(name)s")
    badges = {}
    rows = []

    def html(text) -> str:  # ``conditional_escape`` without its lazy-string wrapper
        return text.__html__() if hasattr(text, "__html__") else escape(str(text))

    for dossier in attach_lot_names(list(dossiers)):
        cells = []
        for column in cols:
            if column.key == "structure":
                cells.append(
                    f'<th scope="row"><a href="{before}{dossier.pk}{after}">'
                    f"{html(column.display(dossier))}</a></th>"
                )
            elif column.key == "statut":
                # Outcomes are not attached on the list: the badge follows the status.
                badge = (dossier.status, tuple(getattr(dossier, "outcomes", ()) or ()))
                if badge not in badges:
                    badges[badge] = render_to_string(
                        "candidatures/partials/_status_badge.html", {"candidature": dossier}
                    )
                cells.append(f"<td>{badges[badge]}</td>")
            else:
                cells.append(f"<td>{html(column.display(dossier))}</td>")
        rows.append(
            PageRow(
                dossier.pk, tick % {"name": dossier.organisation.name}, mark_safe("".join(cells))
            )
        )
    return rows


# --- The list ----------------------------------------------------------------------------------


@dataclass
class DossierList:
    filter: object
    dossiers: QuerySet
    sort_key: str
    columns: list[Column]


def dossier_list(call, params) -> DossierList:
    """The call's dossiers as ``params`` (the page's GET) filter, search and sort them."""
    from candidatures.queries import DossierFilter, staff_dossier_list

    cols = columns()
    filterset = DossierFilter(params or None, queryset=staff_dossier_list(call), call=call)
    dossiers = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    dossiers = search(annotate(dossiers, cols), params.get("q", ""))
    dossiers, key = sort(dossiers, params.get("tri", ""), cols)
    return DossierList(filterset, dossiers, key, cols)


def export_rows(listing: DossierList, chunk_size: int = 500):
    chunk = []
    for dossier in listing.dossiers.iterator(chunk_size=chunk_size):
        chunk.append(dossier)
        if len(chunk) == chunk_size:
            yield from _export_chunk(chunk, listing.columns)
            chunk = []
    yield from _export_chunk(chunk, listing.columns)


def _export_chunk(dossiers, cols):
    for dossier in attach_lot_names(dossiers):
        yield [column.value(dossier) for column in cols]
