"""The ranking of a lot as a table: for the page, the committee PDF, CSV and XLSX (written
by ``core.spreadsheets``, whose cells never execute)."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from html import escape  # Django's, without its lazy-text wrapper: a thousand rows
from typing import NamedTuple

from django.urls import reverse
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
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


class OrganisationFacts(NamedTuple):
    name: str
    siret: str
    kind: str


class DecisionFacts(NamedTuple):
    """A dossier's decision on the lot, as the ranking shows it."""

    outcome: str
    amount_granted: Decimal | None
    fte_granted: Decimal | None
    reason: str
    deliberation: str


@dataclass(slots=True)
class RankedDossier:
    """One row of a lot's ranking: values read in a few set-wise queries, not models (a
    thousand dossiers built as models, with their signals, cost more than the SQL)."""

    pk: int
    organisation: OrganisationFacts
    requested_amount: Decimal | None
    rank: int
    evaluations: int
    mean_total: Decimal | None
    min_total: Decimal | None
    max_total: Decimal | None
    spread: Decimal | None
    consensus_total: Decimal | None
    final_total: Decimal | None
    final_on_20: Decimal | None
    disagreement: bool
    criterion_scores: list
    decision: DecisionFacts | None
    kind_label: str
    decision_label: str
    opinion_labels: list[str]


@dataclass
class RankingTable:
    lot: Lot
    criteria: list
    columns: list[str]
    dossiers: list[RankedDossier] = field(default_factory=list)
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


RANKED_FIELDS = (
    "pk",
    "organisation__name",
    "organisation__siret",
    "organisation__kind",
    "requested_amount",
    "rank",
    "evaluations",
    "mean_total",
    "min_total",
    "max_total",
    "spread",
    "consensus_total",
    "final_total",
    "final_on_20",
)


def ranking_rows(lot: Lot):
    """The grid, the criteria and the ranked dossiers of ``lot`` with their criteria, their
    decision on the lot and the DDETS's opinions, in five queries whatever the number of
    dossiers, evaluations and criteria: the ranking (one grouped SELECT), the criteria's
    means (one grouped aggregate), the decisions and the opinions (values, no models)."""
    grid = services.grid_of(lot.call)
    criteria = list(lot.call.criteria.all())
    kinds, outcomes = _labels(OrganisationKind.choices), _labels(DecisionOutcome.choices)
    opinion_kinds = _labels(OpinionKind.choices)
    threshold = grid.disagreement_threshold
    ranked = queries.ranking(lot, threshold=threshold)
    fields = (*RANKED_FIELDS, "disagreement") if threshold is not None else RANKED_FIELDS
    rows = list(ranked.values_list(*fields))
    ids = [row[0] for row in rows]
    means = queries.criterion_means(ids)
    decisions = {  # one decision per dossier and lot (a unique constraint)
        dossier_id: DecisionFacts(*facts)
        for dossier_id, *facts in Decision.objects.filter(
            lot=lot, candidature_id__in=queries.among(ids)
        )
        .order_by()
        .values_list("candidature_id", *DecisionFacts._fields)
    }
    opinions: dict[int, list[str]] = {}
    for dossier_id, kind in (
        Opinion.objects.filter(candidature_id__in=queries.among(ids))
        .order_by("updated_at", "pk")
        .values_list("candidature_id", "kind")
    ):
        opinions.setdefault(dossier_id, []).append(opinion_kinds[kind])
    dossiers = []
    for row in rows:
        pk, name, siret, kind, requested, rank, *results = row[:14]
        decision = decisions.get(pk)
        mine = means.get(pk, {})
        dossiers.append(
            RankedDossier(
                pk,
                OrganisationFacts(name, siret, kind),
                requested,
                rank,
                *results,
                disagreement=bool(row[14]) if threshold is not None else False,
                criterion_scores=[mine.get(criterion.pk) for criterion in criteria],
                decision=decision,
                kind_label=kinds.get(kind, kind),
                decision_label=outcomes[decision.outcome] if decision else "",
                opinion_labels=opinions.get(pk, []),
            )
        )
    return grid, criteria, dossiers


def _row(dossier: RankedDossier) -> list:
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
    row = queries.with_results(Candidature.objects.filter(pk=candidature.pk)).get()
    means = queries.criterion_means([candidature.pk]).get(candidature.pk, {})
    return {
        "criteria": [(c, means.get(c.pk)) for c in criteria],
        "final_total": row.final_total,
        "final_on_20": row.final_on_20,
        "mean_total": row.mean_total,
        "consensus_total": row.consensus_total,
        "evaluations": row.evaluations,
    }


# --- The page's table ----------------------------------------------------------------------


class FrenchNumbers:
    """Scores and amounts as the pages write them (« 58,33 », « 45 000,00 € »), with the
    separators of the active language read once, not once per cell as filters do."""

    def __init__(self):
        self.decimal = get_format("DECIMAL_SEPARATOR")
        self.grouped = str.maketrans({",": get_format("THOUSAND_SEPARATOR"), ".": self.decimal})

    def score(self, value, empty: str = "") -> str:
        """Two decimals, halves rounded up, as ``round_score`` and the ``score`` filter."""
        if value is None:
            return empty
        return str(round_score(value)).replace(".", self.decimal)

    def euros(self, value, empty: str = "") -> str:
        """Two decimals, thousands grouped, as ``floatformat:"2g"``, and the sign."""
        if value is None:
            return empty
        amount = f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
        return f"{amount.translate(self.grouped)} €"


# The markup of one row of the ranking page. A lot has a thousand rows of fourteen cells:
# written by the template engine (a filter, a lookup and an escape per cell) they cost
# 40 µs each, here 2. Text that people typed (the organisation's name, a deliberation's
# reference) is escaped by ``page_rows``; the rest are numbers and our own labels.
ROW = (
    '<tr><td>{rank}</td><th scope="row" class="ranking-name"><a href="{url}">{name}</a></th>'
    "{scores}"
    '<td class="text-end">{mean}</td><td class="text-end">{consensus}</td>'
    '<td class="text-end fw-semibold">{final}</td><td class="text-end">{on_20}</td>'
    '<td class="text-end">{evaluations}{range}</td><td>{spread}{flag}</td>'
    '<td class="text-end text-nowrap">{requested}</td><td>{opinions}</td>'
    "<td>{decision}{deliberation}</td></tr>\n"
)
SCORE_CELL = '<td class="text-end">{}</td>'


def page_rows(table: RankingTable) -> str:
    """The rows of the ranking page (``templates/evaluation/ranking.html``), safe HTML."""
    numbers = FrenchNumbers()
    # One URL reversed, then its pattern filled in for each dossier.
    prefix, suffix = reverse("evaluation:dossier", args=[999999999]).split("999999999")
    flag = ' <span class="badge text-bg-warning">{}</span>'.format(escape(_("à harmoniser")))
    deliberation = '<br><span class="small text-body-secondary">{}</span>'
    dash = "—"
    out = []
    for dossier in table.dossiers:
        decision = dossier.decision
        out.append(
            ROW.format(
                rank=dossier.rank if dossier.final_total is not None else dash,
                url=f"{prefix}{dossier.pk}{suffix}",
                name=escape(dossier.organisation.name),
                scores="".join(
                    SCORE_CELL.format(numbers.score(value, dash))
                    for value in dossier.criterion_scores
                ),
                mean=numbers.score(dossier.mean_total, dash),
                consensus=numbers.score(dossier.consensus_total, dash),
                final=numbers.score(dossier.final_total, dash),
                on_20=numbers.score(dossier.final_on_20, dash),
                evaluations=dossier.evaluations,
                range=(
                    ' <span class="text-body-secondary text-nowrap">'
                    f"({numbers.score(dossier.min_total)}–{numbers.score(dossier.max_total)})"
                    "</span>"
                )
                if dossier.evaluations
                else "",
                spread=numbers.score(dossier.spread) if dossier.evaluations > 1 else "",
                flag=flag if dossier.disagreement else "",
                requested=numbers.euros(dossier.requested_amount),
                opinions=escape(", ".join(dossier.opinion_labels)),
                decision=escape(dossier.decision_label),
                deliberation=deliberation.format(
                    escape(_("Délib. %(ref)s") % {"ref": decision.deliberation})
                )
                if decision and decision.deliberation
                else "",
            )
        )
    return mark_safe("".join(out))  # each typed text escaped above, cell by cell


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
    numbers, dash = FrenchNumbers(), "—"
    dossiers = []
    for row in table.rows:
        scores = row[4:after]
        mean, consensus, final, on_20, count, low, high, flagged = row[after : after + 8]
        requested, opinions, decision, granted, fte = row[after + 8 :]
        first = [
            PdfCell(str(row[0]) if row[0] != "" else "—", rowspan=2, numeric=True),
            PdfCell(row[1]),
            PdfCell(row[2]),
            *[PdfCell(numbers.score(value, dash), numeric=True) for value in scores],
            *[
                PdfCell(numbers.score(value, dash), numeric=True)
                for value in (mean, consensus, final, on_20)
            ],
            PdfCell(str(count), numeric=True),
            *[PdfCell(numbers.score(value, dash), numeric=True) for value in (low, high)],
            PdfCell(flagged),
        ]
        second = [
            PdfCell(row[3]),
            PdfCell(numbers.euros(requested, dash), span=spans[0], numeric=True),
            PdfCell(opinions or "—", span=spans[1]),
            PdfCell(decision or "—", span=spans[2]),
            PdfCell(numbers.euros(granted, dash), span=spans[3], numeric=True),
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
    return b"".join(csv_chunks(table))


def csv_chunks(table: RankingTable):
    """The CSV as it is written, for a streamed response."""
    return spreadsheets.csv_chunks(table.columns, (_row(dossier) for dossier in table.dossiers))


def to_xlsx(table: RankingTable) -> bytes:
    """Written once per content of the ranking (``xlsx_bytes_once``): a new score, opinion
    or decision changes a row, and with it the workbook's key."""
    return spreadsheets.xlsx_bytes_once(
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
