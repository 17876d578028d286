"""A session that expires while the long form is typed loses nothing: the fields come
back after logging in again, once, to be checked and saved."""

import datetime as dt
import html

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from candidatures.models import Answer, Candidature
from core.pending import SESSION_KEY
from tests.factories import dossier_ready_call

WARNING = (
    "Votre session avait expiré : vos dernières saisies ont été conservées ci-dessous. "
    "Vérifiez-les puis enregistrez."
)
TYPED_SUMMARY = "Co-animer le réseau des facilitateurs <clauses sociales> & l'insertion."


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def questions(call):
    return {q.label: q for q in call.form_questions.all()}


@pytest.fixture
def typed(questions, call):
    """What the candidate typed in the form before sending it."""
    return {
        f"q{questions['Lots sollicités'].pk}": [str(call.lots.order_by("position").last().pk)],
        f"q{questions['Résumé du projet'].pk}": TYPED_SUMMARY,
        f"q{questions['Montant sollicité'].pk}": "18500",
    }


def expire_session(client, how):
    if how == "logout":
        client.logout()
    else:
        del client.cookies[settings.SESSION_COOKIE_NAME]


def log_in_again(client, user, password, next_url):
    """The login form, as the person fills it in, with the ``next`` it was sent to."""
    return client.post(
        f"{reverse('accounts:login')}?next={next_url}",
        {"username": user.email, "password": password, "next": next_url},
        follow=True,
    )


@pytest.mark.parametrize("how", ["logout", "cookie-cleared"])
def test_a_post_without_session_is_kept_and_shown_after_logging_in_again(
    client, candidate, password, dossier, typed, questions, how
):
    answers_url = reverse("candidatures:answers", args=[dossier.pk])
    client.force_login(candidate)
    assert client.get(answers_url).status_code == 200
    expire_session(client, how)

    response = client.post(answers_url, typed)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={answers_url}"
    assert not Answer.objects.exists()

    response = log_in_again(client, candidate, password, answers_url)

    assert response.redirect_chain[-1][0] == answers_url
    page = page_text(response)
    assert WARNING in page
    form = response.context["form"]
    assert form.is_bound
    assert form[f"q{questions['Résumé du projet'].pk}"].value() == TYPED_SUMMARY
    assert f"{TYPED_SUMMARY}</textarea>" in page
    assert "&lt;clauses sociales&gt;" in response.content.decode()  # shown, never run
    assert 'value="18500"' in page
    assert (
        form[f"q{questions['Lots sollicités'].pk}"].value()
        == typed[f"q{questions['Lots sollicités'].pk}"]
    )
    # Shown, not saved: the candidate checks, then saves.
    assert not Answer.objects.exists()
    assert SESSION_KEY not in client.session

    response = client.post(answers_url, typed, follow=True)

    assert "Vos réponses sont enregistrées." in page_text(response)
    saved = {a.question.label: a.value for a in Answer.objects.select_related("question")}
    assert saved["Résumé du projet"] == TYPED_SUMMARY
    assert saved["Montant sollicité"] == "18500.00"  # amounts are stored with their cents
    dossier.refresh_from_db()
    assert list(dossier.lots.all()) == [dossier.call.lots.order_by("position").last()]


def test_the_kept_fields_are_shown_once_only(client, candidate, password, dossier, typed):
    answers_url = reverse("candidatures:answers", args=[dossier.pk])
    client.post(answers_url, typed)
    log_in_again(client, candidate, password, answers_url)

    response = client.get(answers_url)

    page = page_text(response)
    assert WARNING not in page
    assert TYPED_SUMMARY not in page
    assert not response.context["form"].is_bound


def test_a_kept_post_for_another_page_is_not_shown(client, candidate, dossier, organisation, typed):
    other_call = dossier_ready_call()
    other_dossier = Candidature.objects.create(
        call=other_call, organisation=organisation, created_by=candidate
    )
    answers_url = reverse("candidatures:answers", args=[dossier.pk])
    other_url = reverse("candidatures:answers", args=[other_dossier.pk])
    client.post(answers_url, typed)
    client.force_login(candidate)

    response = client.get(other_url)

    page = page_text(response)
    assert WARNING not in page
    assert TYPED_SUMMARY not in page
    assert not response.context["form"].is_bound
    # Still waiting for its own page.
    response = client.get(answers_url)
    assert WARNING in page_text(response)
    assert TYPED_SUMMARY in page_text(response)


def test_the_kept_fields_are_dropped_after_an_hour(client, candidate, dossier, typed):
    answers_url = reverse("candidatures:answers", args=[dossier.pk])
    client.post(answers_url, typed)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        client.force_login(candidate)
        response = client.get(answers_url)
    assert WARNING not in page_text(response)
    assert TYPED_SUMMARY not in page_text(response)


def test_a_post_to_another_form_is_not_kept(client, dossier):
    """Only views that ask for it keep a POST sent without session."""
    client.post(reverse("candidatures:message", args=[dossier.pk]), {"body": "Bonjour"})
    assert SESSION_KEY not in client.session


def test_the_csrf_token_of_the_lost_post_is_not_kept(client, candidate, dossier, typed):
    answers_url = reverse("candidatures:answers", args=[dossier.pk])
    client.post(answers_url, {**typed, "csrfmiddlewaretoken": "jeton-perime"})
    assert "csrfmiddlewaretoken" not in client.session[SESSION_KEY]["data"]
    assert client.session[SESSION_KEY]["path"] == answers_url
