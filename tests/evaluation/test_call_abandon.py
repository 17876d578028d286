"""« Classer sans suite »: a published call with no selected dossier closes with a reason,
recorded in its history, shown on its public page, told to every draft holder and
submitter; refused once a dossier is selected or the decisions are notified."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from aap.abandon import abandon_call, abandon_problems
from aap.models import Call, CallStatusChange
from aap.services import available_actions
from aap.states import CallAction, CallStatus
from candidatures.models import Candidature
from candidatures.states import CandidatureStatus
from core.exceptions import DomainError, TransitionNotAllowed
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

REASON = "Crédits non reconduits au budget primitif 2025."


@pytest.fixture
def call(db, candidate, other_candidate):
    """A draft dossier (the candidate) and a submitted one (the other candidate); an
    organisation with no dossier on this call hears nothing."""
    call = dossier_ready_call()
    draft_org = OrganisationFactory(members=[candidate])
    submitted_org = OrganisationFactory(members=[other_candidate])
    OrganisationFactory(members=[UserFactory(email="personne@ailleurs.test")])
    Candidature.objects.create(call=call, organisation=draft_org, created_by=candidate)
    submitted = Candidature.objects.create(
        call=call, organisation=submitted_org, created_by=other_candidate
    )
    # Test data only: submitted without a receipt (submission is tested elsewhere).
    Candidature.objects.filter(pk=submitted.pk).update(
        status=CandidatureStatus.SUBMITTED, submitted_at=timezone.now()
    )
    return call


@pytest.fixture
def staff(client_for, instructeur):
    return client_for(instructeur)


def url(call):
    return reverse("aap:backoffice_abandon", args=[call.pk])


def select_one(call, instructeur, outcome=DecisionOutcome.SELECTED):
    """Test data only: the committee's decision written as a row."""
    Call.objects.filter(pk=call.pk).update(status=CallStatus.UNDER_REVIEW)
    dossier = call.candidatures.get(status=CandidatureStatus.SUBMITTED)
    return Decision.objects.create(
        candidature=dossier,
        lot=call.lots.first(),
        outcome=outcome,
        amount_granted=Decimal("30000") if outcome == DecisionOutcome.SELECTED else None,
        fte_granted=Decimal("0.5") if outcome == DecisionOutcome.SELECTED else None,
        reason="" if outcome == DecisionOutcome.SELECTED else "Budget insuffisant.",
        decided_by=instructeur,
    )


def assert_untouched(call, status=CallStatus.PUBLISHED):
    call.refresh_from_db()
    assert call.status == status and call.abandon_reason == ""
    assert not CallStatusChange.objects.filter(call=call, action=CallAction.ABANDON).exists()


# --- Refusals -------------------------------------------------------------------------------


def test_abandoning_without_a_reason_is_refused(call, instructeur, staff, mailoutbox):
    with pytest.raises(DomainError, match="Indiquez pourquoi"):
        abandon_call(call, by=instructeur, reason="   ")
    response = staff.post(url(call), {"reason": ""})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert_untouched(call)
    assert mailoutbox == []


def test_a_call_with_a_selected_dossier_is_not_abandoned(
    call, instructeur, staff, django_capture_on_commit_callbacks, mailoutbox
):
    select_one(call, instructeur)
    assert abandon_problems(call) == [
        "1 dossier est retenu : l'appel à projets ne peut pas être classé sans suite."
    ]
    assert CallAction.ABANDON not in available_actions(call)
    page = staff.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
    assert url(call) not in page
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(DomainError, match="ne peut pas être classé sans suite") as refusal:
            abandon_call(call, by=instructeur, reason=REASON)
        response = staff.post(url(call), {"reason": REASON})
    assert refusal.value.problems == abandon_problems(call)
    assert response.status_code == 400
    assert "1 dossier est retenu" in response.content.decode()
    assert_untouched(call, CallStatus.UNDER_REVIEW)
    assert mailoutbox == []


def test_a_call_not_selecting_anyone_yet_may_be_abandoned_under_review(call, instructeur):
    select_one(call, instructeur, outcome=DecisionOutcome.NOT_SELECTED)
    assert abandon_problems(call) == []
    abandon_call(call, by=instructeur, reason=REASON)
    call.refresh_from_db()
    assert call.status == CallStatus.ABANDONED


@pytest.mark.parametrize(
    "status", [CallStatus.DRAFT, CallStatus.DECIDED, CallStatus.ARCHIVED, CallStatus.ABANDONED]
)
def test_a_draft_a_call_whose_decisions_are_notified_or_one_already_abandoned_is_refused(
    call, instructeur, staff, status
):
    Call.objects.filter(pk=call.pk).update(status=status)
    call.refresh_from_db()
    assert CallAction.ABANDON not in available_actions(call)
    with pytest.raises(TransitionNotAllowed):
        abandon_call(call, by=instructeur, reason=REASON)
    response = staff.post(url(call), {"reason": REASON})
    assert response.status_code == 400
    assert "n&#x27;est pas possible" in response.content.decode()
    call.refresh_from_db()
    assert call.status == status
    assert not CallStatusChange.objects.filter(call=call).exists()


def test_a_notified_decision_letter_refuses_it_too(call, instructeur):
    """A letter that left is an act: even if the call's status lagged, no « sans suite »."""
    from evaluation.models import NotificationLetter
    from evaluation.states import LetterStatus

    select_one(call, instructeur, outcome=DecisionOutcome.NOT_SELECTED)
    dossier = call.candidatures.get(status=CandidatureStatus.SUBMITTED)
    letter = NotificationLetter.objects.create(candidature=dossier, created_by=instructeur)
    NotificationLetter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT)
    assert abandon_problems(call) == [
        "Des décisions ont déjà été notifiées : l'appel à projets ne peut plus être classé "
        "sans suite."
    ]
    with pytest.raises(DomainError):
        abandon_call(call, by=instructeur, reason=REASON)
    assert_untouched(call, CallStatus.UNDER_REVIEW)


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_other_roles_get_403(call, client_for, persona, request):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    assert client.get(url(call)).status_code == 403
    assert client.post(url(call), {"reason": REASON}).status_code == 403
    with pytest.raises(PermissionDenied):
        abandon_call(call, by=user, reason=REASON)
    assert_untouched(call)


def test_anonymous_visitors_are_sent_to_login(call, client):
    response = client.get(url(call))
    assert response.status_code == 302 and "connexion" in response["Location"]


# --- What works ------------------------------------------------------------------------------


def test_abandoning_records_history_shows_it_publicly_and_tells_every_dossier_holder(
    call, instructeur, staff, client, django_capture_on_commit_callbacks, mailoutbox
):
    page = staff.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
    assert url(call) in page and "Classer sans suite" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url(call), {"reason": REASON})
        # A double click: refused by the state table, nothing sent twice.
        staff.post(url(call), {"reason": REASON})
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.abandon_reason) == (CallStatus.ABANDONED, REASON)
    change = CallStatusChange.objects.get(call=call, action=CallAction.ABANDON)
    assert (change.from_status, change.to_status, change.by, change.note) == (
        CallStatus.PUBLISHED,
        CallStatus.ABANDONED,
        instructeur,
        REASON,
    )

    # The public page says it, with the reason; no more deposit.
    page = client.get(call.get_absolute_url()).content.decode()
    assert "Classé sans suite" in page and REASON in page
    assert not call.is_open()

    # Each draft holder and submitter once; nobody else.
    assert sorted(address for email in mailoutbox for address in email.to) == [
        "camille@epci-exemple.test",
        "olivier@gip-exemple.test",
    ]
    email = mailoutbox[0]
    assert email.subject.endswith(f"Appel à projets {call.reference} classé sans suite")
    assert REASON in email.body and REASON in email.alternatives[0][0]
    link = f"http://testserver{call.get_absolute_url()}"
    assert link in email.body and link in email.alternatives[0][0]


def test_a_candidate_cannot_submit_on_an_abandoned_call(call, instructeur):
    abandon_call(call, by=instructeur, reason=REASON)
    call.refresh_from_db()
    assert call.phase() == "abandoned" and not call.is_open()
    assert call in Call.objects.public()
    assert call not in Call.objects.open_at(timezone.now() + dt.timedelta(seconds=1))


def test_the_instructeur_sees_it_on_the_call_list(call, instructeur, staff):
    abandon_call(call, by=instructeur, reason=REASON)
    page = staff.get(reverse("aap:backoffice_calls")).content.decode()
    assert "Classé sans suite" in page


def test_evaluators_of_an_abandoned_call_are_reminded_of_nothing(
    db, evaluators, instructeur, django_capture_on_commit_callbacks
):
    from evaluation.models import ScoringGrid
    from evaluation.reminders import digest_items, settled_dossiers
    from tests.evaluation.test_evaluator_reminders import (
        BUILT,
        DUE,
        SEVEN_DAYS_BEFORE,
        sweep,
        workload,
    )

    data = workload.__wrapped__(db, evaluators, instructeur)
    with time_machine.travel(BUILT, tick=False):
        abandon_call(data["call"], by=instructeur, reason=REASON)
    assert ScoringGrid.objects.get(call=data["call"]).due_at == DUE
    sent = sweep(SEVEN_DAYS_BEFORE, django_capture_on_commit_callbacks)
    assert [m for m in sent if "à rendre" in m.subject] == []
    assert set(settled_dossiers().values_list("pk", flat=True)) >= set(
        data["call"].candidatures.values_list("pk", flat=True)
    )
    assert digest_items(DUE + dt.timedelta(days=1)) == [(0, "évaluation(s) en retard")]


def test_a_copy_of_an_abandoned_call_is_a_fresh_draft(call, instructeur):
    from aap.copying import copy_call

    abandon_call(call, by=instructeur, reason=REASON)
    call.refresh_from_db()
    copy = copy_call(
        call, by=instructeur, title="Appel relancé", reference="AAP-RELANCE", months=12
    )
    assert (copy.status, copy.abandon_reason, copy.abandoned_at) == (CallStatus.DRAFT, "", None)


def test_scores_no_longer_change_once_the_call_is_abandoned(db, evaluators, instructeur):
    from evaluation import services as evaluation_services
    from evaluation.models import ScoringClosed
    from evaluation.queries import blind_dossier_ids
    from tests.evaluation.conftest import admitted, make_graded_call

    graded = make_graded_call()
    (dossier,) = admitted(graded, ["Alpha"], by_instructeur=instructeur)
    assignment = evaluation_services.assign(dossier, evaluators[0], by=instructeur)
    evaluation_services.declare_conflict(assignment, by=evaluators[0], has_conflict=False)
    assert blind_dossier_ids(evaluators[0]) == {dossier.pk}
    abandon_call(graded, by=instructeur, reason=REASON)
    with pytest.raises(ScoringClosed, match="classé sans suite"):
        evaluation_services.save_evaluation(
            assignment, by=evaluators[0], scores={}, justifications={}, comment="Trop tard"
        )
    assert blind_dossier_ids(evaluators[0]) == set()
