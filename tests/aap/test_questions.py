"""Questions and answers: asked by candidates, answered once, published for all."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from aap.models import CallQuestion
from aap.services import answer_question, ask_question
from aap.states import CallStatus
from core.exceptions import DomainError
from tests.factories import CallFactory


def test_a_candidate_asks_and_instructeurs_are_told(
    open_call, candidate, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    client = client_for(candidate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("aap:ask_question", args=[open_call.slug]),
            {"question": "Un GIP peut-il candidater sur les deux lots ?"},
        )
    assert response["Location"] == f"{open_call.get_absolute_url()}#questions"
    question = CallQuestion.objects.get()
    assert (question.asked_by, question.published_at) == (candidate, None)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [instructeur.email]
    answer_url = f"http://testserver{reverse('aap:backoffice_answer', args=[question.pk])}"
    assert answer_url in mailoutbox[0].body
    assert answer_url in mailoutbox[0].alternatives[0][0]


def test_the_answer_is_published_without_the_askers_identity(
    open_call, candidate, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    question = CallQuestion.objects.create(
        call=open_call, asked_by=candidate, question="Nous, EPCI du Grésivaudan, pouvons-nous… ?"
    )
    staff = client_for(instructeur)
    form_page = staff.get(reverse("aap:backoffice_answer", args=[question.pk])).content.decode()
    assert "Grésivaudan" in form_page  # staff see the original wording to rephrase it
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("aap:backoffice_answer", args=[question.pk]),
            {"public_question": "Un EPCI peut-il… ?", "answer": "Oui, sur les deux lots."},
        )
    question.refresh_from_db()
    assert question.published_at is not None
    assert mailoutbox[-1].to == [candidate.email]
    public = client_for(None).get(open_call.get_absolute_url()).content.decode()
    assert "Un EPCI peut-il… ?" in public
    assert "Oui, sur les deux lots." in public
    assert "Grésivaudan" not in public
    assert candidate.email not in public
    assert candidate.last_name not in public


def test_editing_a_published_answer_does_not_email_again(
    open_call, candidate, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    question = CallQuestion.objects.create(call=open_call, asked_by=candidate, question="?")
    with django_capture_on_commit_callbacks(execute=True):
        answer_question(question, by=instructeur, public_question="Q ?", answer="R1")
        answer_question(question, by=instructeur, public_question="Q ?", answer="R2")
    assert len(mailoutbox) == 1
    question.refresh_from_db()
    assert question.answer == "R2"


def test_questions_are_refused_once_the_call_is_closed(db, candidate):
    closed = CallFactory(
        status=CallStatus.CLOSED,
        opens_at=timezone.now() - dt.timedelta(days=30),
        deadline=timezone.now() - dt.timedelta(days=1),
    )
    with pytest.raises(DomainError, match="pendant la période de dépôt"):
        ask_question(closed, by=candidate, text="Encore une question ?")
    assert not CallQuestion.objects.exists()


def test_an_empty_question_is_refused(open_call, candidate, client_for):
    response = client_for(candidate).post(
        reverse("aap:ask_question", args=[open_call.slug]), {"question": "   "}
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not CallQuestion.objects.exists()


def test_an_answer_needs_both_texts(open_call, candidate, instructeur):
    question = CallQuestion.objects.create(call=open_call, asked_by=candidate, question="?")
    with pytest.raises(DomainError):
        answer_question(question, by=instructeur, public_question="Q ?", answer=" ")
    question.refresh_from_db()
    assert question.published_at is None


def test_the_call_page_offers_the_question_form_to_candidates_only(
    open_call, candidate, client_for
):
    assert (
        "Envoyer ma question"
        in client_for(candidate).get(open_call.get_absolute_url()).content.decode()
    )
    anonymous_page = client_for(None).get(open_call.get_absolute_url()).content.decode()
    assert "Envoyer ma question" not in anonymous_page
    assert "Connectez-vous pour poser une question." in anonymous_page
