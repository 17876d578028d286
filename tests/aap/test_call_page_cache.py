"""The public page of a call is kept rendered for anonymous visitors, per version of what
it shows: a change of the call, of its lots or documents, an answer published, a
selected organisation renamed, or the clock passing the deadline shows at once; a
logged-in visitor's page is never kept, nor served to anybody else."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from aap import services
from aap.models import Call, CallQuestion, Lot, RequiredDocument
from aap.states import CallStatus
from candidatures.models import Candidature, Organisation
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.factories import CallFactory, OrganisationFactory, add_structure, as_draft

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 9, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def call(time_machine):
    time_machine.move_to(NOW, tick=False)
    return add_structure(CallFactory(deadline=NOW + dt.timedelta(days=3, hours=5)))


def page(client, call) -> str:
    response = client.get(call.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def queries_of(client, call) -> int:
    with CaptureQueriesContext(connection) as context:
        page(client, call)
    return len(context.captured_queries)


def test_an_anonymous_visitor_gets_the_kept_page_in_one_query(client, call):
    first = page(client, call)
    assert queries_of(client, call) == 1
    assert page(client, call) == first


def test_a_change_of_the_call_shows_at_once(client, call):
    assert call.title in page(client, call)
    call.title = "Un titre corrigé"
    call.save()
    assert "Un titre corrigé" in page(client, call)


def test_a_lot_or_a_document_changed_without_touching_the_call_shows_at_once(client, call):
    page(client, call)
    # Straight in the database: no save(), nothing else changed.
    Lot.objects.filter(pk=call.lots.first().pk).update(name="Lot renommé en base")
    assert "Lot renommé en base" in page(client, call)
    with as_draft(call):
        RequiredDocument.objects.create(call=call, position=9, label="Pièce ajoutée")
    assert "Pièce ajoutée" in page(client, call)
    RequiredDocument.objects.filter(call=call, label="Pièce ajoutée").delete()
    assert "Pièce ajoutée" not in page(client, call)


def test_an_answer_shows_once_published_and_not_before(client, call, instructeur):
    question = CallQuestion.objects.create(call=call, question="Qui peut candidater ?")
    assert "Réponse publiée" not in page(client, call)
    services.answer_question(
        question, by=instructeur, public_question="Qui peut candidater ?", answer="Les EPCI."
    )
    shown = page(client, call)
    assert "Qui peut candidater ?" in shown and "Les EPCI." in shown


def test_the_page_never_says_open_after_the_deadline(client, call, time_machine):
    before = page(client, call)
    assert "Ouvert" in before and "Il reste" in before and "3 jours et 5 heures" in before
    # Each step within the kept page's lifetime: only the key can tell them apart.
    time_machine.move_to(call.deadline - dt.timedelta(minutes=10), tick=False)
    assert "10 minutes" in page(client, call)
    time_machine.move_to(call.deadline - dt.timedelta(minutes=9, seconds=30), tick=False)
    assert "9 minutes" in page(client, call)
    time_machine.move_to(call.deadline - dt.timedelta(seconds=30), tick=False)
    assert "moins d&#x27;une minute" in page(client, call)
    time_machine.move_to(call.deadline + dt.timedelta(seconds=1), tick=False)
    after = page(client, call)
    assert "Clos" in after
    assert "Ouvert" not in after and "Il reste" not in after and "Candidater" not in after


def test_an_upcoming_call_opens_at_its_hour(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    call = add_structure(
        CallFactory(opens_at=NOW + dt.timedelta(hours=1), deadline=NOW + dt.timedelta(days=9))
    )
    time_machine.move_to(call.opens_at - dt.timedelta(minutes=1), tick=False)
    assert "À venir" in page(client, call)
    time_machine.move_to(call.opens_at, tick=False)
    shown = page(client, call)
    assert "Ouvert" in shown and "À venir" not in shown


def test_a_selected_organisation_renamed_shows_at_once(client, call, candidate, instructeur):
    organisation = OrganisationFactory(name="EPCI Alpha")
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=candidate)
    Call.objects.filter(pk=call.pk).update(status=CallStatus.UNDER_REVIEW)  # test data only
    Decision.objects.create(
        candidature=dossier,
        lot=call.lots.first(),
        outcome=DecisionOutcome.SELECTED,
        amount_granted=Decimal("30000"),
        fte_granted=Decimal("0.5"),
        decided_by=instructeur,
    )
    Call.objects.filter(pk=call.pk).update(status=CallStatus.DECIDED)
    assert "EPCI Alpha" in page(client, call)
    assert queries_of(client, call) == 1  # kept
    Organisation.objects.filter(pk=organisation.pk).update(name="EPCI Alpha renommé")
    assert "EPCI Alpha renommé" in page(client, call)


def test_a_logged_in_header_is_never_kept_nor_served_to_another(
    client_for, call, candidate, other_candidate
):
    assert candidate.email in page(client_for(candidate), call)
    anonymous = page(client_for(None), call)
    assert candidate.email not in anonymous and "Se connecter" in anonymous
    assert queries_of(client_for(None), call) == 1  # the anonymous page is kept
    shown = page(client_for(other_candidate), call)
    assert other_candidate.email in shown and candidate.email not in shown
    assert "Se connecter" not in page(client_for(candidate), call)
    assert "Se connecter" in page(client_for(None), call)


def test_a_visitor_with_a_waiting_message_gets_it(client, call):
    page(client, call)  # kept for anonymous visitors
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Vous êtes déconnecté de la plateforme.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value
    assert "Vous êtes déconnecté de la plateforme." in page(client, call)
    assert "Vous êtes déconnecté de la plateforme." not in page(client, call)  # read once
