"""The evaluation's pages run as many SQL queries for 30 dossiers as for 3, and whatever
the grid (3 criteria × 2 sub-criteria or 6 × 4; the ranking annotates one subquery per
criterion, inside one query).

Each data set is a new call: its dossiers are submitted with their paper copies, all but
the last admitted, each scored by several evaluators (submitted, a draft, a conflict),
with the DDETS's opinions, decisions on both lots, some consensus scores and a committee
record. The first data set's pages are requested once to warm up, then every page is
measured.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import Criterion, SubCriterion
from candidatures.models import PaperCopy
from evaluation import services
from evaluation.models import (
    Assignment,
    CommitteeRecord,
    Consensus,
    Decision,
    Evaluation,
    Justification,
    Opinion,
    Score,
)
from evaluation.queries import evaluation_total_subquery
from evaluation.states import ConflictStatus, EvaluationStatus
from tests.evaluation.conftest import close, submitted_dossier
from tests.evaluation.meetings import quorate_meeting
from tests.factories import UserFactory, as_draft, dossier_ready_call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


@dataclass
class DataSet:
    call: object
    lot: object
    dossiers: list
    evaluators: list


def weights(n: int) -> list[Decimal]:
    """``n`` whole weights adding up to 100."""
    return [Decimal(100 // n + (1 if i < 100 % n else 0)) for i in range(n)]


def build(*, dossiers, criteria, subcriteria, evaluators, instructeur, readers) -> DataSet:
    """A call under review with ``dossiers`` dossiers on both lots, a grid of ``criteria``
    × ``subcriteria``, and ``evaluators`` evaluators on every admissible dossier: the
    first ones submitted, the last one keeps a draft, and declares a conflict on the
    second dossier."""
    call = dossier_ready_call(paper_copy_required=True)
    Criterion.objects.filter(call=call).delete()
    with as_draft(call):
        for position, weight in enumerate(weights(criteria), start=1):
            criterion = Criterion.objects.create(
                call=call, position=position, title=f"Critère {position}", weight=weight
            )
            SubCriterion.objects.bulk_create(
                SubCriterion(criterion=criterion, position=sub, title=f"Sous-critère {sub}")
                for sub in range(1, subcriteria + 1)
            )
    lots = list(call.lots.all())
    rows = [submitted_dossier(call, f"Structure {n:02d}", lot=lots[0]) for n in range(dossiers)]
    close(call)
    people = [UserFactory(roles=["evaluateur"]) for _ in range(evaluators)]
    now = timezone.now()
    for index, dossier in enumerate(rows):
        dossier.refresh_from_db()
        dossier.lots.set(lots)
        PaperCopy.objects.create(
            candidature=dossier,
            method="mail",
            postmarked_on=now.date() - dt.timedelta(days=1),
            received_on=now.date(),
            identical="yes" if index % 2 else "unchecked",
            recorded_by=instructeur,
        )
        last = index == len(rows) - 1
        services.decide_admissibility(
            dossier, by=instructeur, admissible=not last, reason="Hors délai" if last else ""
        )
    admitted = rows[:-1]
    services.lock_grid(call)
    subs = list(SubCriterion.objects.filter(criterion__call=call))
    call_criteria = list(call.criteria.all())
    for index, dossier in enumerate(admitted):
        for rank, evaluator in enumerate(people):
            drafting = rank == len(people) - 1
            conflict = drafting and index == 1
            assignment = Assignment.objects.create(
                candidature=dossier,
                evaluator=evaluator,
                assigned_by=instructeur,
                conflict=ConflictStatus.CONFLICT if conflict else ConflictStatus.NONE,
                conflict_note="Lien familial" if conflict else "",
                declared_at=now,
            )
            if conflict:
                continue
            evaluation = Evaluation.objects.create(
                assignment=assignment,
                status=EvaluationStatus.DRAFT if drafting else EvaluationStatus.SUBMITTED,
                submitted_at=None if drafting else now,
                overall_comment="Appréciation",
            )
            Score.objects.bulk_create(
                Score(evaluation=evaluation, subcriterion=sub, value=(index + rank + n) % 5)
                for n, sub in enumerate(subs)
            )
            Justification.objects.bulk_create(
                Justification(evaluation=evaluation, criterion=c, text=f"Motif {c.title}")
                for c in call_criteria
            )
        for reader in readers:
            Opinion.objects.create(candidature=dossier, author=reader, kind="favourable")
        for lot in lots:
            outcome = ["selected", "waiting_list", "not_selected"][index % 3]
            Decision.objects.create(
                candidature=dossier,
                lot=lot,
                outcome=outcome,
                amount_granted=Decimal("1000") if outcome == "selected" else None,
                fte_granted=Decimal("0.1") if outcome == "selected" else None,
                reason="Motif" if outcome == "not_selected" else "",
                decided_by=instructeur,
            )
        if index % 3 == 0:
            Consensus.objects.create(
                candidature=dossier, total=Decimal("60"), reason="Harmonisation", set_by=instructeur
            )
    Evaluation.objects.filter(
        assignment__candidature__call=call, status=EvaluationStatus.SUBMITTED
    ).update(total=evaluation_total_subquery())
    CommitteeRecord.objects.create(
        call=call,
        lot=lots[0],
        meeting=quorate_meeting(call, by=instructeur),
        snapshot={},
        pdf="comites/pv.pdf",
        sha256=hashlib.sha256(b"pv").hexdigest(),
        created_by=instructeur,
    )
    return DataSet(call=call, lot=lots[0], dossiers=admitted, evaluators=people)


def pages(data: DataSet) -> dict[str, tuple[str, str]]:
    """name → (persona, URL)."""
    call, lot, first = data.call.pk, data.lot.pk, data.dossiers[0]
    own = Assignment.objects.get(candidature=first, evaluator=data.evaluators[0])
    return {
        "ranking": ("instructeur", reverse("evaluation:ranking", args=[call, lot])),
        "ranking (DDETS)": ("ddets_reader", reverse("evaluation:ranking", args=[call, lot])),
        **{
            f"export {fmt}": (
                "instructeur",
                reverse("evaluation:ranking_export", args=[call, lot, fmt]),
            )
            for fmt in ("csv", "xlsx", "pdf")
        },
        "dossier": ("instructeur", reverse("evaluation:dossier", args=[first.pk])),
        "dossier (DDETS)": ("ddets_reader", reverse("evaluation:dossier", args=[first.pk])),
        "admissibility": ("instructeur", reverse("evaluation:admissibility", args=[call])),
        "assignments": ("instructeur", reverse("evaluation:assignments", args=[call])),
        "notify (letters)": ("instructeur", reverse("evaluation:notify", args=[call])),
        "rankings": ("instructeur", reverse("evaluation:rankings")),
        "my_evaluations": ("evaluator", reverse("evaluation:my_evaluations")),
        "score": ("evaluator", reverse("evaluation:score", args=[own.pk])),
    }


def measure(client_for, users, data: DataSet, *, warm_up=False) -> dict[str, int]:
    users = {**users, "evaluator": data.evaluators[0]}
    counts = {}
    for name, (persona, url) in pages(data).items():
        client = client_for(users[persona])
        if warm_up:  # what the process caches once (content types, templates) is not counted
            assert client.get(url).status_code == 200, name
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(context.captured_queries)
    return counts


def test_evaluation_pages_run_as_many_queries_for_30_dossiers_and_any_grid(
    client_for, instructeur, ddets_reader
):
    readers = [ddets_reader, UserFactory(roles=["lecteur DDETS"])]
    users = {"instructeur": instructeur, "ddets_reader": ddets_reader}
    shapes = {
        # One dossier more than the admitted ones: the last is declared inadmissible.
        "3 dossiers, 3 × 2, 3 evaluators": {
            "dossiers": 4,
            "criteria": 3,
            "subcriteria": 2,
            "evaluators": 3,
        },
        "30 dossiers, 3 × 2, 3 evaluators": {
            "dossiers": 31,
            "criteria": 3,
            "subcriteria": 2,
            "evaluators": 3,
        },
        "3 dossiers, 6 × 4, 5 evaluators": {
            "dossiers": 4,
            "criteria": 6,
            "subcriteria": 4,
            "evaluators": 5,
        },
        "30 dossiers, 6 × 4, 5 evaluators": {
            "dossiers": 31,
            "criteria": 6,
            "subcriteria": 4,
            "evaluators": 5,
        },
    }
    measured = {}
    for label, shape in shapes.items():
        data = build(**shape, instructeur=instructeur, readers=readers)
        assert len(data.dossiers) in (3, 30)
        measured[label] = measure(client_for, users, data, warm_up=not measured)
    base = next(iter(measured.values()))
    assert measured == dict.fromkeys(measured, base)


def test_the_criteria_of_a_ranking_come_from_one_grouped_query(client_for, instructeur):
    """Six criteria: one grouped aggregate gives every dossier's six means (no query per
    criterion, nor per dossier)."""
    data = build(
        dossiers=4, criteria=6, subcriteria=4, evaluators=2, instructeur=instructeur, readers=[]
    )
    from evaluation import queries

    criteria = list(data.call.criteria.all())
    with CaptureQueriesContext(connection) as context:
        rows = list(queries.ranking(data.lot, threshold=Decimal("15")))
        means = queries.criterion_means([row.pk for row in rows])
    assert len(context.captured_queries) == 2
    assert len(rows) == 3
    for row in rows:
        mine = [means[row.pk][c.pk] for c in criteria]
        assert all(isinstance(mean, Decimal) for mean in mine)
        assert sum(mine) == row.mean_total
