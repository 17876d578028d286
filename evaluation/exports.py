"""The ranking of a lot as a table: for the page, the committee PDF, CSV and XLSX (written
by ``core.spreadsheets``, whose cells never execute)."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db.models import Prefetch
from django.template.defaultfilters import floatformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from aap.models import Lot, OrganisationKind
from candidatures.models import Candidature
from core import spreadsheets
from evaluation import queries, services  # the module: services import letters, which import us
from evaluation.models import Decision, Opinion
from evaluation.states import DecisionOutcome, OpinionKind

CENT = Decimal("0.01")


def round_score(value):
    """A score to the hundredth, halves rounded up as the pages' ``floatformat`` does:
    the page, the exports, the committee record and the charts show the same number."""
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class RankingTable:
    lot: Lot
    criteria: list
    columns: list[str]
    dossiers: list = field(default_factory=list)
    money: dict = field(default_factory=dict)

    @cached_property
    def rows(self) -> list[list]:
        """One list of cells per dossier, for the exports and the committee record; built
        on first use, so that the page, which reads ``dossiers``, does not pay for it."""
        return [_row(dossier) for dossier in self.dossiers]


def _labels(choices) -> dict[str, str]:
    """Value → label, translated once: ``get_FOO_display()`` rebuilds the field's choices
    and translates them again on every call, a cost a thousand rows multiply."""
    return {value: str(label) for value, label in choices}


def ranking_rows(lot: Lot):
    """The grid, the criteria and the ranked dossiers of ``lot`` with their decision and
    the DDETS's opinions, in a fixed number of queries whatever the number of dossiers,
    evaluations and criteria. Each dossier gets ``criterion_scores``, ``decision``, and
    the labels of its organisation's kind, its decision and its opinions."""
    grid = services.grid_of(lot.call)
    criteria = list(lot.call.criteria.all())
    kinds, outcomes = _labels(OrganisationKind.choices), _labels(DecisionOutcome.choices)
    opinion_kinds = _labels(OpinionKind.choices)
    dossiers = list(
        queries.ranking(
            lot, criteria=criteria, threshold=grid.disagreement_threshold
        ).prefetch_related(
            Prefetch(
                "decisions", queryset=Decision.objects.filter(lot=lot), to_attr="lot_decisions"
            ),
            Prefetch(
                "opinions", queryset=Opinion.objects.order_by("updated_at"), to_attr="opinion_list"
            ),
        )
    )
    for dossier in dossiers:
        dossier.criterion_scores = [getattr(dossier, f"criterion_{c.pk}") for c in criteria]
        dossier.decision = dossier.lot_decisions[0] if dossier.lot_decisions else None
        dossier.kind_label = kinds.get(dossier.organisation.kind, dossier.organisation.kind)
        dossier.decision_label = outcomes[dossier.decision.outcome] if dossier.decision else ""
        dossier.opinion_labels = [opinion_kinds[o.kind] for o in dossier.opinion_list]
    return grid, criteria, dossiers


def _row(dossier) -> list:
    decision = dossier.decision
    return [
        dossier.rank if dossier.final_total is not None else "",
        dossier.organisation.name,
        dossier.organisation.siret,
        dossier.kind_label,
        *[round_score(value) for value in dossier.criterion_scores],
        round_score(dossier.mean_total),
        round_score(dossier.consensus_total),
        round_score(dossier.final_total),
        round_score(dossier.final_on_20),
        dossier.evaluations,
        round_score(dossier.min_total),
        round_score(dossier.max_total),
        _("oui") if dossier.disagreement else _("non"),
        dossier.requested_amount,
        ", ".join(dossier.opinion_labels),
        dossier.decision_label,
        decision.amount_granted if decision else None,
        decision.fte_granted if decision else None,
    ]


def ranking_table(lot: Lot) -> RankingTable:
    _grid, criteria, dossiers = ranking_rows(lot)
    columns = [
        _("Rang"),
        _("Structure"),
        _("SIRET"),
        _("Type"),
        *[f"{c.title} (/{c.weight.normalize():f})" for c in criteria],
        _("Moyenne (/100)"),
        _("Consensus (/100)"),
        _("Note retenue (/100)"),
        _("Note retenue (/20)"),
        _("Évaluations"),
        _("Note min."),
        _("Note max."),
        _("Écart signalé"),
        _("Montant sollicité (€)"),
        _("Avis DDETS"),
        _("Décision"),
        _("Montant attribué (€)"),
        _("ETP attribués"),
    ]
    money = {
        **queries.lot_money(lot),
        **{f"granted_{k}": v for k, v in services.granted_in_lot(lot).items()},
    }
    return RankingTable(lot=lot, criteria=criteria, columns=columns, dossiers=dossiers, money=money)


def dossier_results(candidature: Candidature) -> dict:
    """One dossier's results, for its letter and its page."""
    criteria = list(candidature.call.criteria.all())
    row = queries.with_results(
        Candidature.objects.filter(pk=candidature.pk), criteria=criteria
    ).get()
    return {
        "criteria": [(c, getattr(row, f"criterion_{c.pk}")) for c in criteria],
        "final_total": row.final_total,
        "final_on_20": row.final_on_20,
        "mean_total": row.mean_total,
        "consensus_total": row.consensus_total,
        "evaluations": row.evaluations,
    }


# --- The PDF's table: two lines per dossier ---------------------------------------------------

# Past this many criteria the PDF's table is set denser (static/css/pdf-ranking.css).
DENSE_AFTER = 4


@dataclass(frozen=True)
class PdfCell:
    text: str
    span: int = 1
    rowspan: int = 1
    numeric: bool = False
    width: str = ""  # a header's width class (static/css/pdf-ranking.css)

    @property
    def parts(self) -> tuple[str, str]:
        """A header's words, then its unit « (/100) », which never wraps."""
        main, bracket, unit = self.text.partition(" (")
        return (main, f"({unit}") if bracket else (main, "")


@dataclass
class PdfLayout:
    """The ranking for A4 landscape: too many columns for one line, so each dossier has
    two lines that stay together (a ``tbody`` of its own), under two header lines that
    every page repeats. Line 1: rank (both lines), structure, SIRET, the criteria (C1, C2…
    named in ``legend``), mean, consensus, retained /100 and /20, evaluations, min, max,
    flagged disagreement. Line 2, under the structure: its type, then the amount
    requested, the DDETS's opinions, the decision, the amount and FTE granted."""

    criteria: int
    dense: bool
    legend: list[tuple[str, object]]
    head: list[list[PdfCell]]
    dossiers: list[tuple[list[PdfCell], list[PdfCell]]]


def _second_line_spans(criteria: int) -> list[int]:
    """How many first-line columns each second-line cell covers (requested, opinions,
    decision, granted, FTE): the criteria's extra room goes to the texts."""
    spans = [2, 2, 2, 2, 1]
    for index in range(criteria):
        spans[1 + index % 2] += 1
    return spans


def _number(value) -> str:
    if value is None or value == "":
        return "—"
    return str(round_score(value)).replace(".", get_format("DECIMAL_SEPARATOR"))


def _money(value) -> str:
    return "—" if value is None else f"{floatformat(value, '2g')} €"


def _fte(value) -> str:
    return "—" if value is None else f"{Decimal(value).normalize():f}".replace(".", ",")


def pdf_layout(table: RankingTable) -> PdfLayout:
    n = len(table.criteria)
    columns = table.columns
    after = 4 + n  # index of the first column after the criteria
    spans = _second_line_spans(n)
    short = [
        f"C{i} (/{c.weight.normalize():f})".replace(".", ",")
        for i, c in enumerate(table.criteria, start=1)
    ]
    widths = ["score", "wide", "score", "score", "wide", "score", "score"]
    head = [
        [
            PdfCell(columns[0], rowspan=2, width="rank"),
            PdfCell(columns[1], width="name"),
            PdfCell(columns[2], width="siret"),
            *[PdfCell(text, numeric=True, width="score") for text in short],
            *[
                PdfCell(text, numeric=True, width=width)
                for text, width in zip(columns[after : after + 7], widths, strict=True)
            ],
            PdfCell(columns[after + 7], width="flag"),
        ],
        [
            PdfCell(columns[3]),
            *[
                PdfCell(text, span=span, numeric=index in (0, 3, 4))
                for index, (text, span) in enumerate(zip(columns[after + 8 :], spans, strict=True))
            ],
        ],
    ]
    dossiers = []
    for row in table.rows:
        scores = row[4:after]
        mean, consensus, final, on_20, count, low, high, flagged = row[after : after + 8]
        requested, opinions, decision, granted, fte = row[after + 8 :]
        first = [
            PdfCell(str(row[0]) if row[0] != "" else "—", rowspan=2, numeric=True),
            PdfCell(row[1]),
            PdfCell(row[2]),
            *[PdfCell(_number(value), numeric=True) for value in scores],
            *[PdfCell(_number(value), numeric=True) for value in (mean, consensus, final, on_20)],
            PdfCell(str(count), numeric=True),
            *[PdfCell(_number(value), numeric=True) for value in (low, high)],
            PdfCell(flagged),
        ]
        second = [
            PdfCell(row[3]),
            PdfCell(_money(requested), span=spans[0], numeric=True),
            PdfCell(opinions or "—", span=spans[1]),
            PdfCell(decision or "—", span=spans[2]),
            PdfCell(_money(granted), span=spans[3], numeric=True),
            PdfCell(_fte(fte), span=spans[4], numeric=True),
        ]
        dossiers.append((first, second))
    return PdfLayout(
        criteria=n,
        dense=n > DENSE_AFTER,
        legend=[(f"C{i}", c) for i, c in enumerate(table.criteria, start=1)],
        head=head,
        dossiers=dossiers,
    )


def _money_columns(table: RankingTable) -> frozenset[int]:
    """The indexes of the amounts: requested and granted."""
    return frozenset(
        index
        for index, column in enumerate(table.columns)
        if column in (_("Montant sollicité (€)"), _("Montant attribué (€)"))
    )


def to_csv(table: RankingTable) -> bytes:
    """Semicolon-separated, decimal commas, UTF-8 with a BOM: what French spreadsheets open."""
    return spreadsheets.csv_bytes(table.columns, table.rows)


def to_xlsx(table: RankingTable) -> bytes:
    return spreadsheets.xlsx_bytes(
        [
            spreadsheets.Sheet(
                title=table.lot.name,
                columns=table.columns,
                rows=table.rows,
                money=_money_columns(table),
                freeze="C2",
                widths={"B": 40},
            )
        ]
    )
