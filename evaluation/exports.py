"""The ranking of a lot as a table: for the page, the committee PDF, CSV and XLSX (written
by ``core.spreadsheets``, whose cells never execute)."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from aap.models import Lot, OrganisationKind
from candidatures.models import Candidature
from core import spreadsheets
from evaluation import queries
from evaluation.models import Decision, Opinion
from evaluation.services import granted_in_lot, grid_of
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
    grid = grid_of(lot.call)
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
        **{f"granted_{k}": v for k, v in granted_in_lot(lot).items()},
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
