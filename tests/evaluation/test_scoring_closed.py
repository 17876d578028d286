"""Scoring is closed once the ranking is frozen, and blind means blind.

Once a committee record of a dossier's lot is frozen, or the call's decisions are notified,
no evaluation, score, justification, assignment or consensus of the dossier changes, by
any path: the services, the views, the model layer (the shell). An evaluator who still
scores a dossier sees no other evaluator's scores or totals for it, whatever their other
roles (instructeur, DDETS), on any page or export they can reach."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from aap.models import SubCriterion
from core.exceptions import DomainError
from core.roles import Role
from evaluation import services
from evaluation.committee import freeze_committee
from evaluation.letters import notify_decisions
from evaluation.models import (
    Assignment,
    CommitteeRecord,
    Consensus,
    Evaluation,
    EvaluationStatusChange,
    Justification,
    Score,
    ScoringClosed,
)
from evaluation.states import EvaluationStatus
from tests.evaluation.conftest import admitted, score, submitted_dossier
from tests.evaluation.meetings import quorate_meeting
from tests.factories import UserFactory

E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 81.25
E2 = {"A1": 3, "A2": 1, "B1": 2, "C1": 3, "C2": 2}  # 53.125
RECORD_FROZEN = "le procès-verbal du comité du lot « Lot 1 » a été figé le"


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


@pytest.fixture
def frozen(graded_call, lot, instructeur, evaluators):
    """Alpha scored by both evaluators; beta scored by the first, with the second's draft
    pending and a third evaluator who has not declared yet; a consensus on alpha; gamma on
    the other lot, not scored yet; then lot 1's committee record is frozen."""
    other_lot = graded_call.lots.exclude(pk=lot.pk).get()
    gamma = submitted_dossier(graded_call, "Régie Gamma", lot=other_lot)
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    gamma.refresh_from_db()
    services.decide_admissibility(gamma, by=instructeur, admissible=True)
    third = UserFactory(email="troisieme@isere.test", roles=[Role.EVALUATEUR])
    undeclared = services.assign(beta, third, by=instructeur)
    submitted = score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(alpha, evaluators[1], by_instructeur=instructeur, points=E2)
    score(beta, evaluators[0], by_instructeur=instructeur, points=E2)
    draft = score(beta, evaluators[1], by_instructeur=instructeur, points={"A1": 1}, submit=False)
    services.set_consensus(alpha, by=instructeur, total=Decimal("70"), reason="Harmonisation")
    quorate_meeting(graded_call, by=instructeur)
    record = freeze_committee(graded_call, lot, by=instructeur)
    return {
        "alpha": alpha,
        "beta": beta,
        "submitted": submitted,
        "draft": draft,
        "record": record,
        "gamma": gamma,
        "undeclared": undeclared,
        "third": third,
    }


def unchanged(evaluation: Evaluation) -> tuple:
    evaluation.refresh_from_db()
    return (
        evaluation.status,
        evaluation.total,
        evaluation.overall_comment,
        sorted(evaluation.scores.values_list("subcriterion__title", "value")),
        sorted(evaluation.justifications.values_list("text", flat=True)),
    )


# --- Services --------------------------------------------------------------------------------


def test_no_service_changes_a_score_once_the_record_is_frozen(frozen, instructeur, evaluators):
    draft, submitted = frozen["draft"], frozen["submitted"]
    before = {e.pk: unchanged(e) for e in (draft, submitted)}
    history = EvaluationStatusChange.objects.count()

    attempts = [
        lambda: services.save_evaluation(
            draft.assignment, by=evaluators[1], scores={}, justifications={}, comment="Changé"
        ),
        lambda: services.submit_evaluation(draft, by=evaluators[1]),
        lambda: services.reopen_evaluation(submitted, by=instructeur, note="Erreur de saisie"),
        lambda: services.set_consensus(
            frozen["alpha"], by=instructeur, total=Decimal("90"), reason="Revu"
        ),
        lambda: services.assign(frozen["beta"], UserFactory(roles=["evaluateur"]), by=instructeur),
    ]
    for attempt in attempts:
        with pytest.raises(ScoringClosed, match=RECORD_FROZEN):
            attempt()

    assert {e.pk: unchanged(e) for e in (draft, submitted)} == before
    assert EvaluationStatusChange.objects.count() == history
    assert Consensus.objects.get(candidature=frozen["alpha"]).total == Decimal("70")
    assert Assignment.objects.filter(candidature=frozen["beta"]).count() == 3


def test_the_shell_cannot_change_a_score_either(frozen):
    """The model layer refuses whatever the caller: save and delete of each part."""
    submitted = frozen["submitted"]
    score_row = submitted.scores.first()
    score_row.value = 0
    justification = submitted.justifications.first()
    consensus = Consensus.objects.get(candidature=frozen["alpha"])
    consensus.total = Decimal("99")

    for write in [
        score_row.save,
        score_row.delete,
        justification.delete,
        submitted.save,
        submitted.delete,
        consensus.save,
        consensus.delete,
        submitted.assignment.delete,
        lambda: Score.objects.create(
            evaluation=frozen["draft"], subcriterion=score_row.subcriterion, value=4
        ),
        lambda: Justification.objects.create(
            evaluation=frozen["draft"], criterion=justification.criterion, text="Ajoutée"
        ),
    ]:
        with pytest.raises(ScoringClosed):
            write()

    assert submitted.scores.get(pk=score_row.pk).value != 0
    assert Consensus.objects.get(candidature=frozen["alpha"]).total == Decimal("70")
    assert Evaluation.objects.filter(pk=submitted.pk).exists()


def test_another_lots_dossiers_are_still_scored(frozen, instructeur, evaluators):
    evaluation = score(frozen["gamma"], evaluators[0], by_instructeur=instructeur, points=E1)

    assert evaluation.status == EvaluationStatus.SUBMITTED


def test_a_conflict_of_interest_can_still_be_declared(frozen):
    """It adds no score; an evaluator may always say they should not have scored."""
    assignment = frozen["undeclared"]
    services.declare_conflict(assignment, by=frozen["third"], has_conflict=True, note="Ancien élu")
    assignment.refresh_from_db()
    assert assignment.conflict == "conflict"


def test_scoring_closes_when_the_decisions_are_notified(graded_call, lot, instructeur, evaluators):
    (alpha,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    evaluation = score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    services.record_decision(alpha, lot, by=instructeur, outcome="waiting_list")
    quorate_meeting(graded_call, by=instructeur)
    freeze_committee(graded_call, lot, by=instructeur)  # notifying needs the lot's record
    notify_decisions(graded_call, by=instructeur)

    with pytest.raises(ScoringClosed, match="La notation de ce dossier est close"):
        services.reopen_evaluation(evaluation, by=instructeur, note="Après coup")
    with pytest.raises(ScoringClosed, match="La notation de ce dossier est close"):
        services.set_consensus(alpha, by=instructeur, total=Decimal("10"), reason="Après coup")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUBMITTED


# --- Views ------------------------------------------------------------------------------------


def test_the_evaluator_page_says_scoring_is_closed_and_refuses_a_post(
    frozen, evaluators, client_for
):
    draft = frozen["draft"]
    client = client_for(evaluators[1])
    url = reverse("evaluation:score", args=[draft.assignment_id])
    before = unchanged(draft)

    shown = page(client.get(url))
    refused = client.post(url, {"comment": "Changé", "submit": "1"})

    assert RECORD_FROZEN in shown
    assert "<fieldset disabled>" in shown
    assert refused.status_code == 409
    assert RECORD_FROZEN in page(refused)
    assert unchanged(draft) == before


def test_the_staff_pages_refuse_reopening_and_consensus(frozen, instructeur, client_for):
    client = client_for(instructeur)
    alpha, submitted = frozen["alpha"], frozen["submitted"]

    dossier_page = page(client.get(reverse("evaluation:dossier", args=[alpha.pk])))
    reopened = client.post(
        reverse("evaluation:reopen", args=[submitted.pk]), {"note": "Erreur"}, follow=True
    )
    consensus = client.post(
        reverse("evaluation:consensus", args=[alpha.pk]),
        {"total": "95", "reason": "Revu"},
        follow=True,
    )

    assert RECORD_FROZEN in dossier_page
    assert "Rouvrir cette évaluation" not in dossier_page
    assert reverse("evaluation:consensus", args=[alpha.pk]) not in dossier_page
    assert RECORD_FROZEN in page(reopened)
    assert RECORD_FROZEN in page(consensus)
    submitted.refresh_from_db()
    assert submitted.status == EvaluationStatus.SUBMITTED
    assert Consensus.objects.get(candidature=alpha).total == Decimal("70")


# --- Blind scoring whatever the roles --------------------------------------------------------


@pytest.fixture(params=["instructeur", "ddets"])
def reader_who_scores(request, db):
    """Someone who reads rankings and is also asked to score."""
    role = {"instructeur": Role.INSTRUCTEUR, "ddets": Role.LECTEUR_DDETS}[request.param]
    return UserFactory(email=f"double-{request.param}@isere.test", roles=[role, Role.EVALUATEUR])


@pytest.fixture
def pending(graded_call, lot, instructeur, evaluators, reader_who_scores):
    """Alpha: two evaluators submitted (81,25 and 53,13); the reader who scores keeps a
    draft. Beta: the first evaluator submitted (81,25)."""
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(alpha, evaluators[1], by_instructeur=instructeur, points=E2)
    draft = score(
        alpha, reader_who_scores, by_instructeur=instructeur, points={"A1": 1}, submit=False
    )
    score(beta, evaluators[0], by_instructeur=instructeur, points=E1)
    return {"alpha": alpha, "beta": beta, "draft": draft}


SCORES_OF_OTHERS = ["81,25", "53,13", "67,19", "81.25", "53.13", "67.19"]


def assert_no_scores(text: str):
    for value in SCORES_OF_OTHERS:
        assert value not in text


def test_a_reader_who_still_scores_sees_no_ranking_and_no_export(
    pending, graded_call, lot, reader_who_scores, client_for
):
    client = client_for(reader_who_scores)
    base = [graded_call.pk, lot.pk]

    ranking = client.get(reverse("evaluation:ranking", args=base))

    assert ranking.status_code == 200
    text = page(ranking)
    assert "Vous évaluez encore 1 dossier de ce lot" in text
    assert "EPCI Alpha" not in text
    assert_no_scores(text)
    for fmt in ["csv", "xlsx", "pdf"]:
        export = client.get(reverse("evaluation:ranking_export", args=[*base, fmt]))
        assert export.status_code == 302
        assert export.url == reverse("evaluation:ranking", args=base)
        assert_no_scores(export.content.decode("latin-1"))


def test_a_reader_who_still_scores_sees_no_others_on_the_dossier_or_their_own_page(
    pending, reader_who_scores, client_for
):
    client = client_for(reader_who_scores)
    alpha, draft = pending["alpha"], pending["draft"]

    dossier = page(client.get(reverse("evaluation:dossier", args=[alpha.pk])))
    own = page(client.get(reverse("evaluation:score", args=[draft.assignment_id])))

    assert "Vous évaluez ce dossier" in dossier
    assert_no_scores(dossier)
    assert "Les autres évaluations" not in own
    assert_no_scores(own)


def test_an_instructeur_who_still_scores_cannot_freeze_the_record(
    graded_call, lot, instructeur, evaluators, client_for
):
    double = UserFactory(email="double@isere.test", roles=["instructeur", "evaluateur"])
    (alpha,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(alpha, double, by_instructeur=instructeur, points={"A1": 1}, submit=False)

    response = client_for(double).post(
        reverse("evaluation:committee_record", args=[graded_call.pk, lot.pk]), follow=True
    )

    assert "Vous évaluez encore 1 dossier de ce lot" in page(response)
    assert not CommitteeRecord.objects.exists()


def test_once_submitted_the_reader_sees_everything_again(
    pending, graded_call, lot, reader_who_scores, client_for
):
    draft = pending["draft"]
    services.save_evaluation(
        draft.assignment,
        by=reader_who_scores,
        scores={s.pk: 2 for s in SubCriterion.objects.filter(criterion__call=graded_call)},
        justifications={c.pk: "Motivé" for c in graded_call.criteria.all()},
        comment="",
    )
    services.submit_evaluation(draft, by=reader_who_scores)
    client = client_for(reader_who_scores)

    ranking = page(client.get(reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])))
    dossier = page(client.get(reverse("evaluation:dossier", args=[pending["alpha"].pk])))

    assert "Vous évaluez encore" not in ranking and "EPCI Alpha" in ranking
    assert "81,25" in dossier and "53,13" in dossier


def test_a_declared_conflict_ends_the_blindness(
    pending, instructeur, reader_who_scores, client_for
):
    """Asked to score, the reader is blind until they declare; who declares a conflict
    scores nothing and reads as their other role allows."""
    beta = pending["beta"]
    assignment = services.assign(beta, reader_who_scores, by=instructeur)
    client = client_for(reader_who_scores)
    url = reverse("evaluation:dossier", args=[beta.pk])
    assert_no_scores(page(client.get(url)))

    services.declare_conflict(assignment, by=reader_who_scores, has_conflict=True, note="Lien")

    assert "81,25" in page(client.get(url))


def test_scoring_closed_ends_the_blindness(
    pending, graded_call, lot, instructeur, client_for, reader_who_scores
):
    """The record is frozen without the reader's evaluation: it can no longer be given,
    and the frozen ranking is read like any other."""
    quorate_meeting(graded_call, by=instructeur)
    freeze_committee(graded_call, lot, by=instructeur)
    ranking = page(
        client_for(reader_who_scores).get(
            reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])
        )
    )
    assert "EPCI Alpha" in ranking and "81,25" in ranking
    with pytest.raises(DomainError):
        services.submit_evaluation(pending["draft"], by=reader_who_scores)
