"""Totals and rankings come from the database, and match a second hand-computed grid."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aap.models import Criterion, SubCriterion
from evaluation import exports, queries
from evaluation.models import Evaluation, ScoringGrid, SubCriterionFactor
from tests.evaluation.conftest import admitted, score
from tests.factories import as_draft, dossier_ready_call

Q = Decimal("0.0001")


@pytest.fixture
def second_grid_call(db):
    """A 0 to 5 scale; P weighs 40 (3 sub-criteria), Q 25 (1), R 35 (4). One point is
    worth 40 / 15 = 2.666…, 25 / 5 = 5 and 35 / 20 = 1.75 points out of 100."""
    call = dossier_ready_call()
    Criterion.objects.filter(call=call).delete()
    with as_draft(call):
        for position, (title, weight, subs) in enumerate(
            [
                ("P", "40", ["P1", "P2", "P3"]),
                ("Q", "25", ["Q1"]),
                ("R", "35", ["R1", "R2", "R3", "R4"]),
            ],
            start=1,
        ):
            criterion = Criterion.objects.create(
                call=call, position=position, title=title, weight=Decimal(weight)
            )
            for sub_position, sub in enumerate(subs, start=1):
                SubCriterion.objects.create(criterion=criterion, position=sub_position, title=sub)
    ScoringGrid.objects.create(
        call=call,
        scale_max=5,
        levels=["Nul", "Insuffisant", "Passable", "Moyen", "Bon", "Très bon"],
        disagreement_threshold=Decimal("20"),
    )
    return call


X = {"P1": 5, "P2": 4, "P3": 3, "Q1": 2, "R1": 5, "R2": 5, "R3": 4, "R4": 2}
Y = {"P1": 1, "P2": 0, "P3": 3, "Q1": 5, "R1": 0, "R2": 1, "R3": 2, "R4": 3}
Z = dict.fromkeys(X, 5)


def test_totals_stored_at_submission_match_the_hand_computed_ones(
    second_grid_call, instructeur, evaluators
):
    """Each criterion scores the mean of its sub-criteria over the scale, times its weight.

    X: P (5 + 4 + 3) / 15 × 40 = 32;      Q 2 / 5 × 25 = 10;  R (5 + 5 + 4 + 2) / 20 × 35 = 28
       total 70.
    Y: P (1 + 0 + 3) / 15 × 40 = 10.666…; Q 5 / 5 × 25 = 25;  R (0 + 1 + 2 + 3) / 20 × 35 = 10.5
       total 46.1666…, stored with four decimals: 46.1667.
    Z: every sub-criterion at 5: 40 + 25 + 35 = 100.

    The factor 40 / 15 is kept with ten decimals (2.6666666667): 4 points make
    10.6666666668, so the rounding stays far below the fourth decimal of the total.
    """
    lot = second_grid_call.lots.first()
    alpha, beta = admitted(
        second_grid_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    x = score(alpha, evaluators[0], by_instructeur=instructeur, points=X)
    y = score(alpha, evaluators[1], by_instructeur=instructeur, points=Y)
    z = score(beta, evaluators[0], by_instructeur=instructeur, points=Z)
    factors = {
        f.subcriterion.title[0]: f.factor
        for f in SubCriterionFactor.objects.select_related("subcriterion")
    }
    assert factors == {"P": Decimal("2.6666666667"), "Q": Decimal("5"), "R": Decimal("1.75")}
    assert [x.total, y.total, z.total] == [Decimal("70"), Decimal("46.1667"), Decimal("100")]
    assert Evaluation.objects.get(pk=y.pk).total == Decimal("46.1667")


def test_the_ranking_of_the_second_grid_is_annotated_by_the_database(
    second_grid_call, instructeur, evaluators
):
    """alpha: X (70) and Y (46.1667): mean 58.08335, spread 23.8333 (over the 20 flagged),
    on 20: 11.61667; criteria P (32 + 10.666…) / 2 = 21.3333, Q (10 + 25) / 2 = 17.5,
    R (28 + 10.5) / 2 = 19.25. beta: Z alone, 100, first."""
    lot = second_grid_call.lots.first()
    alpha, beta = admitted(
        second_grid_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=X)
    score(alpha, evaluators[1], by_instructeur=instructeur, points=Y)
    score(beta, evaluators[0], by_instructeur=instructeur, points=Z)
    criteria = list(second_grid_call.criteria.all())
    ranking = queries.ranking(lot, threshold=Decimal("20"))
    # Every figure is an annotation of the one SELECT, not a Python sum over scores.
    names = {
        "evaluations",
        "mean_total",
        "min_total",
        "max_total",
        "spread",
        "final_total",
        "final_on_20",
        "disagreement",
        "rank",
    }
    assert names <= set(ranking.query.annotations)
    with CaptureQueriesContext(connection) as context:
        rows = list(ranking)
        # The criteria's means: one grouped aggregate for the whole lot.
        means = queries.criterion_means([row.pk for row in rows])
    ranked_sql, means_sql = (query["sql"] for query in context.captured_queries)
    assert "SUM(" not in ranked_sql and "AVG(" in ranked_sql and "RANK()" in ranked_sql
    assert "SUM(" in means_sql and "GROUP BY" in means_sql
    first, second = rows
    assert (first.pk, first.rank, first.final_total) == (beta.pk, 1, Decimal("100"))
    assert (second.pk, second.rank, second.evaluations) == (alpha.pk, 2, 2)
    assert second.mean_total.quantize(Decimal("0.00001")) == Decimal("58.08335")
    assert second.spread == Decimal("23.8333")
    assert second.disagreement is True and first.disagreement is False
    assert second.final_on_20.quantize(Decimal("0.00001")) == Decimal("11.61667")
    assert [means[alpha.pk][c.pk].quantize(Q) for c in criteria] == [
        Decimal("21.3333"),
        Decimal("17.5000"),
        Decimal("19.2500"),
    ]
    # Z alone: every sub-criterion at its maximum, each criterion at its weight.
    assert sum(means[beta.pk].values()).quantize(Q) == Decimal("100").quantize(Q)
    assert [means[beta.pk][c.pk].quantize(Q) for c in criteria] == [
        c.weight.quantize(Q) for c in criteria
    ]


def test_the_ranking_table_reads_no_score_row(second_grid_call, instructeur, evaluators):
    """The page and the exports get their figures from the annotated ranking and one
    grouped aggregate of the criteria: no query fetches the scores themselves."""
    lot = second_grid_call.lots.first()
    (alpha,) = admitted(second_grid_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(alpha, evaluators[0], by_instructeur=instructeur, points=X)
    with CaptureQueriesContext(connection) as context:
        table = exports.ranking_table(lot)
    assert table.rows[0][4:7] == [Decimal("32.00"), Decimal("10.00"), Decimal("28.00")]
    outer_tables = [
        query["sql"].split(" FROM ", 1)[1].split()[0]
        for query in context.captured_queries
        if query["sql"].startswith("SELECT")
    ]
    assert '"evaluation_evaluation"' not in outer_tables
    # The scores are read once, summed per dossier and criterion by the database.
    (from_scores,) = (
        query["sql"]
        for query in context.captured_queries
        if query["sql"].split(" FROM ", 1)[1].startswith('"evaluation_score"')
    )
    assert "GROUP BY" in from_scores and "SUM(" in from_scores


def test_a_half_hundredth_rounds_up_alike_on_the_page_the_exports_and_the_charts():
    from decimal import Decimal

    from evaluation.charts import _number
    from evaluation.exports import FrenchNumbers, round_score
    from evaluation.templatetags.evaluation_tags import score

    numbers = FrenchNumbers()  # what the ranking page writes
    for value, shown in (("58.325", "58,33"), ("58.335", "58,34"), ("41.6666666667", "41,67")):
        assert score(Decimal(value)) == shown
        assert numbers.score(Decimal(value)) == shown
        assert str(round_score(Decimal(value))).replace(".", ",") == shown
        assert _number(Decimal(value)) == float(shown.replace(",", "."))
    assert score(None) == "" and round_score(None) is None and _number(None) is None
