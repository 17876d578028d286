"""Totals, means, spreads, ties and consensus on hand-computed examples."""

from decimal import Decimal

import pytest

from evaluation import queries, services
from evaluation.models import SubCriterionFactor
from tests.evaluation.conftest import admitted, score

E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 30 + 26.25 + 25 = 81.25
E2 = {"A1": 2, "A2": 2, "B1": 2, "C1": 1, "C2": 3}  # 20 + 17.5 + 12.5 = 50


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


def test_factors_bring_each_criterion_to_its_weight(graded_call, lot, instructeur, evaluators):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    factors = {
        f.subcriterion.title: f.factor
        for f in SubCriterionFactor.objects.select_related("subcriterion")
    }
    assert factors == {
        "A1": Decimal("5"),
        "A2": Decimal("5"),
        "B1": Decimal("8.75"),
        "C1": Decimal("3.125"),
        "C2": Decimal("3.125"),
    }


def test_mean_spread_criteria_and_total_on_20(graded_call, lot, instructeur, evaluators):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    first = score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    second = score(dossier, evaluators[1], by_instructeur=instructeur, points=E2)
    assert (first.total, second.total) == (Decimal("81.25"), Decimal("50"))
    criteria = list(graded_call.criteria.all())
    row = queries.ranking(lot, threshold=Decimal("15")).get()
    assert row.evaluations == 2
    assert row.mean_total == Decimal("65.625")
    assert (row.min_total, row.max_total, row.spread) == (
        Decimal("50"),
        Decimal("81.25"),
        Decimal("31.25"),
    )
    assert row.disagreement is True
    assert row.final_total == Decimal("65.625")
    assert row.final_on_20 == Decimal("13.125")
    by_criterion = queries.criterion_means([dossier.pk])[dossier.pk]
    means = [by_criterion[c.pk] for c in criteria]
    assert means == [Decimal("25"), Decimal("21.875"), Decimal("18.75")]
    assert sum(means) == row.mean_total


def test_ties_share_a_rank_and_consensus_overrides_the_mean(
    graded_call, lot, instructeur, evaluators
):
    alpha, beta, gamma = admitted(
        graded_call,
        ["EPCI Alpha", "GIP Bêta", "Association Gamma"],
        by_instructeur=instructeur,
        lot=lot,
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(alpha, evaluators[1], by_instructeur=instructeur, points=E2)  # mean 65.625
    score(
        beta,
        evaluators[0],
        by_instructeur=instructeur,
        points={"A1": 3, "A2": 3, "B1": 3, "C1": 1, "C2": 2},
    )  # 30 + 26.25 + 9.375 = 65.625
    score(gamma, evaluators[0], by_instructeur=instructeur, points=E2)  # 50
    rows = list(queries.ranking(lot, threshold=Decimal("15")))
    assert [(r.organisation.name, r.rank, r.final_total) for r in rows] == [
        ("EPCI Alpha", 1, Decimal("65.625")),
        ("GIP Bêta", 1, Decimal("65.625")),
        ("Association Gamma", 3, Decimal("50")),
    ]
    assert [r.disagreement for r in rows] == [True, False, False]

    services.set_consensus(
        gamma, by=instructeur, total=Decimal("70"), reason="Harmonisation du 3 octobre"
    )
    rows = list(queries.ranking(lot))
    assert [(r.organisation.name, r.rank) for r in rows] == [
        ("Association Gamma", 1),
        ("EPCI Alpha", 2),
        ("GIP Bêta", 2),
    ]
    assert (rows[0].mean_total, rows[0].consensus_total, rows[0].final_total) == (
        Decimal("50"),
        Decimal("70"),
        Decimal("70"),
    )


def test_drafts_and_conflicts_do_not_count(graded_call, lot, instructeur, evaluators):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    score(dossier, evaluators[1], by_instructeur=instructeur, points=E2, submit=False)
    row = queries.ranking(lot).get()
    assert (row.evaluations, row.mean_total) == (1, Decimal("81.25"))
