"""The evaluation of a call through its services and pages, from admissibility to letters."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aap.exceptions import ScoringGridLocked
from aap.models import Criterion, SubCriterion
from aap.states import CallStatus
from candidatures.models import Reading
from core.exceptions import DomainError
from core.spreadsheets import neutralise
from evaluation import services
from evaluation.committee import freeze_committee
from evaluation.letters import notify_decisions
from evaluation.models import Decision, Evaluation, NotificationLetter
from evaluation.states import AdmissibilityOutcome, ConflictStatus, EvaluationStatus
from tests.evaluation.conftest import admitted, close, score, submitted_dossier
from tests.evaluation.meetings import quorate_meeting
from tests.factories import as_draft
from tests.pdf import pdf_text

E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 81.25
E2 = {"A1": 2, "A2": 2, "B1": 2, "C1": 1, "C2": 3}  # 50


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


# --- Admissibility ------------------------------------------------------------------------------


def test_admissibility_checks_are_computed(graded_call, lot, instructeur):
    dossier = submitted_dossier(graded_call, "EPCI Alpha", lot=lot)
    close(graded_call)
    checks = {check.code: check.ok for check in services.admissibility_checks(dossier)}
    assert checks == {"pieces": True, "on_time": True, "eligible": True}
    graded_call.paper_copy_required = True
    graded_call.eligible_kinds = ["gip"]
    graded_call.save()
    dossier.refresh_from_db()
    checks = {check.code: check.ok for check in services.admissibility_checks(dossier)}
    assert checks == {
        "pieces": True,
        "on_time": True,
        "paper_received": False,
        "paper_on_time": None,
        "paper_identical": None,
        "eligible": False,
    }


def test_inadmissible_needs_a_reason_and_tells_the_candidate(
    graded_call, lot, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    dossier = submitted_dossier(graded_call, "EPCI Alpha", lot=lot)
    close(graded_call)
    with pytest.raises(DomainError, match="motif"):
        services.decide_admissibility(dossier, by=instructeur, admissible=False, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_admissibility(
            dossier, by=instructeur, admissible=False, reason="Attestation non signée."
        )
    assert dossier.admissibility.outcome == AdmissibilityOutcome.INADMISSIBLE
    member = dossier.organisation.memberships.get().user
    assert [m.to for m in mailoutbox] == [[member.email]]
    assert "Attestation non signée." in mailoutbox[0].body
    assert "Attestation non signée." in mailoutbox[0].alternatives[0][0]
    graded_call.refresh_from_db()
    assert graded_call.status == CallStatus.UNDER_REVIEW  # the first act opens the review


def test_admissibility_waits_for_the_deadline(graded_call, lot, instructeur):
    dossier = submitted_dossier(graded_call, "EPCI Alpha", lot=lot)
    with pytest.raises(DomainError, match="date limite"):
        services.decide_admissibility(dossier, by=instructeur, admissible=True)


def test_inadmissible_dossiers_leave_the_scoring(graded_call, lot, instructeur, evaluators):
    _alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    services.decide_admissibility(
        beta, by=instructeur, admissible=False, reason="Hors délai papier"
    )
    with pytest.raises(DomainError, match="recevables"):
        services.assign(beta, evaluators[0], by=instructeur)
    assert services.assign_lot(lot, by=instructeur) == 2  # both evaluators on alpha only
    from evaluation.queries import ranking

    assert [row.organisation.name for row in ranking(lot)] == ["EPCI Alpha"]


# --- Grid lock ----------------------------------------------------------------------------------


def test_the_grid_locks_at_the_first_submitted_evaluation(
    graded_call, lot, instructeur, evaluators
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    weights = {c.pk: c.weight for c in graded_call.criteria.all()}
    first = next(iter(weights))
    services.update_grid(
        graded_call,
        by=instructeur,
        scale_max=4,
        levels=["a", "b", "c", "d", "e"],
        due_at=None,
        evaluators_per_dossier=2,
        disagreement_threshold=Decimal("10"),
        weights={**weights, first: weights[first]},
    )
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1, submit=False)
    # A draft does not lock: the weights may still move.
    criterion = Criterion.objects.get(pk=first)
    criterion.weight = Decimal("40")
    criterion.save()
    score(dossier, evaluators[1], by_instructeur=instructeur, points=E2)
    graded_call.refresh_from_db()
    assert graded_call.scoring_locked_at is not None
    with pytest.raises(ScoringGridLocked, match="figée"):
        services.update_grid(
            graded_call,
            by=instructeur,
            scale_max=4,
            levels=["a", "b", "c", "d", "e"],
            due_at=None,
            evaluators_per_dossier=2,
            disagreement_threshold=Decimal("10"),
            weights={
                **weights,
                first: Decimal("50"),
                next(k for k in weights if k != first): Decimal("25"),
            },
        )
    criterion.weight = Decimal("41")
    with pytest.raises(ScoringGridLocked):
        criterion.save()
    with pytest.raises(ScoringGridLocked):
        SubCriterion.objects.create(criterion=criterion, title="Nouveau", position=9)
    assert Criterion.objects.get(pk=first).weight == Decimal("40")


def test_the_grid_page_refuses_a_weight_change_once_locked(
    graded_call, lot, instructeur, evaluators, client
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    client.force_login(instructeur)
    page = client.get(reverse("evaluation:grid", args=[graded_call.pk])).content.decode()
    assert "La grille est figée" in page
    assert "disabled" in page


def test_weights_must_add_up_to_100(graded_call, instructeur):
    criteria = list(graded_call.criteria.all())
    with pytest.raises(DomainError, match="égale à 100"):
        services.update_grid(
            graded_call,
            by=instructeur,
            scale_max=4,
            levels=["a", "b", "c", "d", "e"],
            due_at=None,
            evaluators_per_dossier=2,
            disagreement_threshold=Decimal("10"),
            weights={criteria[0].pk: Decimal("10")},
        )


# --- Conflicts of interest and blind scoring ------------------------------------------------------


def test_a_declared_conflict_removes_the_evaluator_and_flags_the_dossier(
    graded_call, lot, instructeur, evaluators, client
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    assignment = services.assign(dossier, evaluators[0], by=instructeur)
    client.force_login(evaluators[0])
    # Nobody reads the dossier before declaring.
    response = client.get(reverse("evaluation:score", args=[assignment.pk]))
    assert response["Location"] == reverse("evaluation:declare", args=[assignment.pk])
    response = client.post(
        reverse("evaluation:declare", args=[assignment.pk]),
        {"has_conflict": "yes", "note": "Ancien employé de la structure"},
    )
    assert response["Location"] == reverse("evaluation:my_evaluations")
    assignment.refresh_from_db()
    assert assignment.conflict == ConflictStatus.CONFLICT
    assert client.get(reverse("evaluation:score", args=[assignment.pk])).status_code == 403
    with pytest.raises(DomainError):
        services.declare_conflict(assignment, by=evaluators[0], has_conflict=False)
    client.force_login(instructeur)
    page = client.get(reverse("evaluation:assignments", args=[graded_call.pk])).content.decode()
    assert "Ancien employé de la structure" in page
    assert "0 évaluateur" in page  # flagged: it lacks evaluators


def test_an_evaluator_sees_the_others_scores_only_after_submitting(
    graded_call, lot, instructeur, evaluators, client
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)  # 81.25 submitted
    second = score(dossier, evaluators[1], by_instructeur=instructeur, points=E2, submit=False)
    client.force_login(evaluators[1])
    url = reverse("evaluation:score", args=[second.assignment_id])
    page = client.get(url).content.decode()
    assert "81,25" not in page and "81.25" not in page
    assert "visibles une fois votre évaluation déposée" in page
    # The rankings are not for evaluators either.
    assert (
        client.get(reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])).status_code == 403
    )
    client.post(
        url,
        {
            **{
                f"score_{s.pk}": E2[s.title]
                for s in SubCriterion.objects.filter(criterion__call=graded_call)
            },
            **{f"justification_{c.pk}": "Motivé" for c in graded_call.criteria.all()},
            "comment": "",
            "submit": "1",
        },
    )
    second.refresh_from_db()
    assert second.status == EvaluationStatus.SUBMITTED
    assert "81,25" in client.get(url).content.decode()


def test_an_incomplete_evaluation_cannot_be_submitted(graded_call, lot, instructeur, evaluators):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    evaluation = score(
        dossier, evaluators[0], by_instructeur=instructeur, points={"A1": 3}, submit=False
    )
    with pytest.raises(DomainError) as refusal:
        services.submit_evaluation(evaluation, by=evaluators[0])
    assert "Note manquante : A2" in refusal.value.problems


def test_a_submitted_evaluation_is_locked_until_an_instructeur_reopens_it(
    graded_call, lot, instructeur, evaluators
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    evaluation = score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    with pytest.raises(DomainError, match="rouvrir"):
        services.save_evaluation(
            evaluation.assignment, by=evaluators[0], scores={}, justifications={}, comment=""
        )
    with pytest.raises(DomainError, match="pourquoi"):
        services.reopen_evaluation(evaluation, by=instructeur, note="")
    services.reopen_evaluation(evaluation, by=instructeur, note="Erreur de saisie sur A2")
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.total) == (EvaluationStatus.DRAFT, None)
    assert list(evaluation.status_changes.values_list("action", "note")) == [
        ("submit", ""),
        ("reopen", "Erreur de saisie sur A2"),
    ]


# --- Opinions, decisions, letters ------------------------------------------------------------------


def test_the_ddets_gives_an_opinion_and_its_readings_are_logged(
    graded_call, lot, instructeur, evaluators, ddets_reader, client
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    client.force_login(ddets_reader)
    assert (
        client.get(reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])).status_code == 200
    )
    assert client.get(reverse("evaluation:dossier", args=[dossier.pk])).status_code == 200
    assert client.get(reverse("candidatures:staff_dossier", args=[dossier.pk])).status_code == 200
    response = client.post(
        reverse("evaluation:opinion", args=[dossier.pk]),
        {"kind": "reserved", "comment": "À revoir"},
    )
    assert response.status_code == 302
    assert dossier.opinions.get().kind == "reserved"
    assert list(Reading.objects.filter(reader=ddets_reader).values_list("what", flat=True)) == [
        "dossier",
        "évaluations",
    ]
    ranking = client.get(
        reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])
    ).content.decode()
    assert "Réservé" in ranking


def test_decisions_stay_within_the_lot_budget(graded_call, lot, instructeur):
    lot.budget = Decimal("30000")
    with as_draft(lot.call):
        lot.save()
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("20000"),
        fte_granted=Decimal("0.5"),
    )
    with pytest.raises(DomainError, match="dépasseraient son budget"):
        services.record_decision(
            beta,
            lot,
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("10000.01"),
            fte_granted=Decimal("0.5"),
        )
    services.record_decision(beta, lot, by=instructeur, outcome="waiting_list")
    with pytest.raises(DomainError, match="motif"):
        services.record_decision(beta, lot, by=instructeur, outcome="not_selected")
    # Changing alpha's own amount is checked without counting alpha twice.
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("30000"),
        fte_granted=Decimal("0.5"),
    )
    assert Decision.objects.get(candidature=alpha).amount_granted == Decimal("30000")


def test_exports_and_committee_record(graded_call, lot, instructeur, evaluators, client):
    alpha, beta = admitted(
        graded_call, ['=HYPERLINK("http://x")', "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(beta, evaluators[0], by_instructeur=instructeur, points=E2)
    client.force_login(instructeur)
    base = [graded_call.pk, lot.pk]
    # The CSV is streamed as it is written.
    content = (
        client.get(reverse("evaluation:ranking_export", args=[*base, "csv"]))
        .getvalue()
        .decode("utf-8-sig")
    )
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][0] == "1" and rows[2][0] == "2"
    assert "81,25" in rows[1]
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("evaluation:ranking_export", args=[*base, "xlsx"])).content)
    )
    sheet = workbook.active
    assert sheet["B2"].value == '\'=HYPERLINK("http://x")'
    assert sheet["B2"].data_type == "s"
    pdf = client.get(reverse("evaluation:ranking_export", args=[*base, "pdf"])).content
    assert "GIP Bêta" in pdf_text(pdf)
    assert client.get(reverse("evaluation:ranking_export", args=[*base, "doc"])).status_code == 404
    quorate_meeting(graded_call, by=instructeur)
    response = client.post(reverse("evaluation:committee_record", args=base))
    assert response.status_code == 302
    record = lot.committee_records.get()
    assert record.snapshot["rows"][0][1] == '=HYPERLINK("http://x")'
    with record.pdf.open("rb") as handle:
        assert "Procès-verbal du comité de sélection" in pdf_text(handle.read())


@pytest.mark.parametrize("value", ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(value):
    assert neutralise(value) == "'" + value
    assert neutralise("Normal") == "Normal"


def test_letters_are_sent_once_every_decision_is_taken(
    graded_call,
    lot,
    instructeur,
    evaluators,
    client,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    alpha, beta, gamma = admitted(
        graded_call,
        ["EPCI Alpha", "GIP Bêta", "Association Gamma"],
        by_instructeur=instructeur,
        lot=lot,
    )
    services.decide_admissibility(
        gamma, by=instructeur, admissible=False, reason="Dossier incomplet"
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
    )
    with pytest.raises(DomainError) as refusal:
        notify_decisions(graded_call, by=instructeur)
    assert "Décision manquante : GIP Bêta, lot Lot 1" in refusal.value.problems
    services.record_decision(
        beta,
        lot,
        by=instructeur,
        outcome="not_selected",
        reason="Couverture territoriale insuffisante",
    )
    with pytest.raises(DomainError) as refusal:
        notify_decisions(graded_call, by=instructeur)
    assert refusal.value.problems == [
        "Procès-verbal du comité non figé : lot Lot 1 (figez-le depuis son classement)"
    ]
    quorate_meeting(graded_call, by=instructeur)
    freeze_committee(graded_call, lot, by=instructeur)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the letters' tasks, eagerly
        assert notify_decisions(graded_call, by=instructeur) == 3
    graded_call.refresh_from_db()
    assert graded_call.status == CallStatus.DECIDED
    assert len(mailoutbox) == 3
    texts = {}
    for letter in NotificationLetter.objects.select_related("candidature__organisation"):
        with letter.pdf.open("rb") as handle:
            texts[letter.candidature.organisation.name] = pdf_text(handle.read(), order="raw")
    assert "Retenu" in texts["EPCI Alpha"] and "24 500,00 € pour 0,5 ETP" in texts["EPCI Alpha"]
    assert "81,25 / 100" in texts["EPCI Alpha"]
    assert "Couverture territoriale insuffisante" in texts["GIP Bêta"]
    assert "Dossier incomplet" in texts["Association Gamma"]
    # The candidate downloads its letter; another candidate cannot.
    member = alpha.organisation.memberships.get().user
    client.force_login(member)
    assert (
        "Télécharger la lettre de notification"
        in client.get(reverse("candidatures:dossier", args=[alpha.pk])).content.decode()
    )
    assert client.get(reverse("evaluation:letter", args=[alpha.pk])).status_code == 200
    assert client.get(reverse("evaluation:letter", args=[beta.pk])).status_code == 404
    # The public page lists the selected organisations.
    client.logout()
    public = client.get(graded_call.get_absolute_url()).content.decode()
    assert "Structures retenues" in public and "EPCI Alpha" in public
    assert "GIP Bêta" not in public


def test_evaluations_count_only_when_submitted(graded_call, lot, instructeur, evaluators):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1, submit=False)
    assert Evaluation.objects.get().total is None


def test_a_dossier_with_a_decision_cannot_become_inadmissible(graded_call, lot, instructeur):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    services.record_decision(dossier, lot, by=instructeur, outcome="waiting_list")
    with pytest.raises(DomainError, match="décision du comité"):
        services.decide_admissibility(dossier, by=instructeur, admissible=False, reason="Erreur")


def test_a_draft_evaluation_of_a_dossier_made_inadmissible_cannot_be_submitted(
    graded_call, lot, instructeur, evaluators
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    evaluation = score(dossier, evaluators[0], by_instructeur=instructeur, points=E1, submit=False)
    services.decide_admissibility(dossier, by=instructeur, admissible=False, reason="Pièce fausse")
    evaluation.assignment.candidature.refresh_from_db()
    with pytest.raises(DomainError, match="plus recevable"):
        services.submit_evaluation(Evaluation.objects.get(pk=evaluation.pk), by=evaluators[0])
