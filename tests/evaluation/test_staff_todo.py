"""The staff's home lists what needs action, call by call: questions to answer, dossiers
to check, evaluations late, decisions to notify; in as many queries for one call as for
five; nothing for calls classed sans suite, decided or archived."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import Call
from aap.states import CallStatus
from aap.todo import todos_by_call
from evaluation import services
from evaluation.models import Decision, NotificationLetter, ScoringGrid
from evaluation.states import DecisionOutcome, LetterStatus
from tests.evaluation.conftest import admitted, close, make_graded_call, submitted_dossier
from tests.factories import ready_call


@pytest.fixture
def staff(client_for, instructeur):
    return client_for(instructeur)


def labels(now=None):
    now = now or timezone.now()
    return {
        call_id: [item.label for item in items] for call_id, items in todos_by_call(now).items()
    }


def busy_call(instructeur, evaluator, name):
    """Two questions waiting; one dossier admitted and assigned, its evaluation late; one
    dossier submitted whose admissibility is not decided."""
    call = make_graded_call()
    for index in range(2):
        call.questions.create(asked_by=evaluator, question=f"Question {index} ?")
    late = submitted_dossier(call, f"{name} en retard")
    waiting = submitted_dossier(call, f"{name} à vérifier")
    close(call)
    late.refresh_from_db()
    services.decide_admissibility(late, by=instructeur, admissible=True)
    services.assign(late, evaluator, by=instructeur)
    ScoringGrid.objects.update_or_create(
        call=call, defaults={"due_at": timezone.now() - dt.timedelta(days=1)}
    )
    return call, waiting


def test_each_kind_of_work_is_counted_on_its_call(db, instructeur, evaluators):
    call, _waiting = busy_call(instructeur, evaluators[0], "Alpha")
    quiet = ready_call()
    assert labels() == {
        call.pk: [
            "2 questions à répondre",
            "1 dossier déposé à vérifier (recevabilité)",
            "1 évaluation en retard",
        ]
    }
    assert quiet.pk not in labels()


def test_decisions_to_notify_until_their_letters_leave(db, instructeur):
    call = make_graded_call()
    dossiers = admitted(call, ["Alpha", "Bravo"], by_instructeur=instructeur)
    Call.objects.filter(pk=call.pk).update(status=CallStatus.UNDER_REVIEW)
    for dossier in dossiers:
        # Test data only: the committee's decisions written as rows.
        Decision.objects.create(
            candidature=dossier,
            lot=call.lots.first(),
            outcome=DecisionOutcome.NOT_SELECTED,
            reason="Budget insuffisant.",
            decided_by=instructeur,
        )
    assert labels()[call.pk] == ["2 décisions à notifier"]
    letter = NotificationLetter.objects.create(candidature=dossiers[0], created_by=instructeur)
    assert labels()[call.pk] == ["2 décisions à notifier"]  # a draft letter has not left
    NotificationLetter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT)
    assert labels()[call.pk] == ["1 décision à notifier"]


@pytest.mark.parametrize("status", [CallStatus.ABANDONED, CallStatus.DECIDED, CallStatus.ARCHIVED])
def test_nothing_is_asked_on_a_call_that_is_settled(db, instructeur, evaluators, status):
    call, _waiting = busy_call(instructeur, evaluators[0], "Alpha")
    Call.objects.filter(pk=call.pk).update(status=status)
    assert call.pk not in labels()


def test_the_home_shows_them_with_links_in_constant_queries(db, instructeur, evaluators, staff):
    url = reverse("aap:backoffice_calls")
    first, _waiting = busy_call(instructeur, evaluators[0], "Alpha")
    with CaptureQueriesContext(connection) as one:
        page = staff.get(url).content.decode()
    assert "À faire" in page
    assert reverse("aap:backoffice_questions", args=[first.pk]) in page
    assert reverse("evaluation:admissibility", args=[first.pk]) in page
    assert reverse("evaluation:assignments", args=[first.pk]) in page
    assert "1 évaluation en retard" in page
    for name in ("Bravo", "Charlie", "Delta", "Echo"):
        busy_call(instructeur, evaluators[0], name)
    with CaptureQueriesContext(connection) as five:
        page = staff.get(url).content.decode()
    assert page.count("2 questions à répondre") == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_a_quiet_home_says_so(db, staff):
    ready_call()
    page = staff.get(reverse("aap:backoffice_calls")).content.decode()
    assert "attend votre action : aucune question sans réponse" in page


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_the_staff_home_is_refused_to_other_roles(db, client_for, persona, request):
    ready_call().questions.create(question="Une question ?")
    response = client_for(request.getfixturevalue(persona)).get(reverse("aap:backoffice_calls"))
    assert response.status_code == 403
    assert "À faire" not in response.content.decode()
