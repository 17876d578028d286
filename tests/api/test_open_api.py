"""The open API (api/): what anonymous visitors read, and nothing more.

A walk of every URL of the api app as an anonymous client, over a database that holds a
draft call, dossiers (drafts, not selected, selected before notification), personal data
of candidates, staff and signatories: none of it appears. The OpenAPI description
validates, the Atom feed parses, the lists' queries do not grow with their rows, and the
throttle answers 429 with Retry-After."""

import datetime as dt
import json
from decimal import Decimal

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from openapi_spec_validator import validate

from aap.models import Call, Criterion, Lot, RequiredDocument, SubCriterion
from aap.states import CallStatus
from api import urls as api_urls
from candidatures.models import Candidature, Organisation
from candidatures.states import CandidatureStatus
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.factories import (
    CallFactory,
    OrganisationFactory,
    ProgrammeFactory,
    UserFactory,
    add_structure,
)

# Strings that must never leave through the API.
SECRETS = [
    "BROUILLON-SECRET",  # a draft call's title
    "brouillon-secret",  # its slug
    "Jeanne Secrète",  # a legal representative
    "jeanne.secrete@asso.test",
    "candidat.secret@asso.test",  # a candidate's account
    "Marie Contact 04 76 00 00 00",  # the people to contact on a call
    "Jean Signataire",  # the signatory of the letters
    "MOTIF-DE-REFUS",  # a reason for not selecting
    "Structure Non Retenue",
    "Structure Pas Encore Notifiée",  # selected, but the call is not decided yet
    "Structure En Brouillon",  # a draft dossier's organisation
    "instructeur.secret@isere.test",
    "RECU-SECRET-0001",  # a receipt number
]


def make_dossier(call, organisation, *, status=CandidatureStatus.SUBMITTED):
    return Candidature.objects.create(
        call=call,
        organisation=organisation,
        status=status,
        submitted_at=call.opens_at if status == CandidatureStatus.SUBMITTED else None,
    )


def decide(candidature, lot, outcome, *, by, amount=Decimal("30000"), reason=""):
    # Test data: the decision's workflow is tested in tests/evaluation.
    return Decision.objects.bulk_create(
        [
            Decision(
                candidature=candidature,
                lot=lot,
                outcome=outcome,
                amount_granted=amount if outcome == DecisionOutcome.SELECTED else None,
                fte_granted=Decimal("0.5") if outcome == DecisionOutcome.SELECTED else None,
                reason=reason,
                decided_by=by,
            )
        ]
    )[0]


@pytest.fixture
def world(db):
    staff = UserFactory(email="instructeur.secret@isere.test")
    secret_fields = {
        "contact_details": "Marie Contact 04 76 00 00 00",
        "letter_signatory_name": "Jean Signataire",
    }
    published = add_structure(CallFactory(title="Appel publié", **secret_fields))
    draft = add_structure(
        CallFactory(
            title="BROUILLON-SECRET",
            reference="BROUILLON-SECRET",
            status=CallStatus.DRAFT,
            **secret_fields,
        )
    )
    decided = add_structure(CallFactory(title="Appel décidé", **secret_fields))
    under_review = add_structure(CallFactory(title="Appel en instruction", **secret_fields))
    Call.objects.filter(pk=decided.pk).update(status=CallStatus.DECIDED)
    Call.objects.filter(pk=under_review.pk).update(status=CallStatus.UNDER_REVIEW)

    person = {
        "legal_representative_name": "Jeanne Secrète",
        "legal_representative_email": "jeanne.secrete@asso.test",
    }
    laureate = OrganisationFactory(name="Structure Lauréate", **person)
    refused = OrganisationFactory(name="Structure Non Retenue", **person)
    early = OrganisationFactory(name="Structure Pas Encore Notifiée", **person)
    drafting = OrganisationFactory(name="Structure En Brouillon", **person)
    candidate = UserFactory(email="candidat.secret@asso.test")
    for organisation in (laureate, refused, early, drafting):
        organisation.memberships.create(user=candidate)

    lot = decided.lots.first()
    decide(make_dossier(decided, laureate), lot, DecisionOutcome.SELECTED, by=staff)
    decide(
        make_dossier(decided, refused),
        lot,
        DecisionOutcome.NOT_SELECTED,
        by=staff,
        reason="MOTIF-DE-REFUS",
    )
    decide(
        make_dossier(under_review, early),
        under_review.lots.first(),
        DecisionOutcome.SELECTED,
        by=staff,
    )
    dossier = make_dossier(published, drafting, status=CandidatureStatus.DRAFT)
    dossier.receipts.create(
        call=published,
        sequence=1,
        number="RECU-SECRET-0001",
        submitted_at=published.opens_at,
        submitted_by=candidate,
        manifest={},
    )
    return {
        "published": published,
        "draft": draft,
        "decided": decided,
        "under_review": under_review,
        "laureate": laureate,
    }


def api_urls_to_walk(world):
    """Every URL of the api app, with each value its parameters may take here."""
    values = {
        "slug": [call.slug for call in Call.objects.all()] + ["inconnu"],
        "call_id": [call.pk for call in Call.objects.all()] + [999999],
        "pk": [1, 999999],
    }
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = list(pattern.pattern.converters)
        if not names:
            yield reverse(f"api:{pattern.name}")
            continue
        assert len(names) == 1, pattern  # one parameter each today; extend the walk if not
        for value in values[names[0]]:
            yield reverse(f"api:{pattern.name}", kwargs={names[0]: value})


def test_the_anonymous_walk_of_every_endpoint_leaks_nothing(world, client):
    seen = []
    for url in api_urls_to_walk(world):
        response = client.get(url)
        body = response.content.decode()
        seen.append((url, response.status_code))
        for secret in SECRETS:
            assert secret not in body, (url, secret)
        if url.startswith("/api/v1/gestion/"):
            assert response.status_code == 401, url  # no token, no dossier
        if "brouillon-secret" in url or "inconnu" in url:
            assert response.status_code == 404, url
    statuses = dict(seen)
    assert statuses[reverse("api:list_calls")] == 200
    assert statuses[reverse("api:list_laureates")] == 200
    assert statuses[reverse("api:calls_feed")] == 200
    # The staff's token page asks for a login, it does not answer.
    assert statuses[reverse("api:tokens")] == 302


def test_calls_list_the_public_calls_with_lots_criteria_documents_and_calendar(world, client):
    data = client.get(reverse("api:list_calls")).json()
    slugs = {call["slug"] for call in data["items"]}
    assert slugs == {world[name].slug for name in ("published", "decided", "under_review")}
    published = next(item for item in data["items"] if item["slug"] == world["published"].slug)
    assert [lot["name"] for lot in published["lots"]] == ["Lot 1", "Lot 2"]
    assert [criterion["weight"] for criterion in published["criteria"]] == [
        "34.00",
        "33.00",
        "33.00",
    ]
    assert published["criteria"][0]["subcriteria"] == [{"title": "Sous-critère"}]
    assert published["documents"][0]["label"] == "Dossier de demande de financement"
    assert published["documents"][0]["allowed_formats"] == ["pdf"]
    deadline = published["calendar"]["deadline"].replace("Z", "+00:00")
    expected = world["published"].deadline
    # JSON dates carry milliseconds (Django's encoder).
    assert dt.datetime.fromisoformat(deadline) == expected.replace(
        microsecond=expected.microsecond // 1000 * 1000
    )
    assert published["url"].endswith(f"/appels/{world['published'].slug}/")
    assert published["status_label"] == "Publié"


def test_laureates_are_those_of_decided_calls_only(world, client):
    data = client.get(reverse("api:list_laureates")).json()
    assert data["count"] == 1
    assert data["items"] == [
        {
            "call": world["decided"].slug,
            "call_reference": world["decided"].reference,
            "organisation": "Structure Lauréate",
            "siret": world["laureate"].siret,
            "lot": "Lot 1",
            "amount": "30000.00",
        }
    ]
    one_call = client.get(reverse("api:list_laureates"), {"appel": world["published"].slug})
    assert one_call.json()["items"] == []


def test_the_subsidies_list_follows_the_open_data(world, client, settings):
    settings.AUTHORITY_SIRET = ""  # not configured: nothing is published, as for the CSV
    assert client.get(reverse("api:list_subsidies")).json()["items"] == []


def test_the_openapi_description_validates(world, client):
    response = client.get(reverse("api:openapi-json"))
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert {"/api/v1/appels", "/api/v1/laureats", "/api/v1/subventions"} <= set(schema["paths"])
    staff_path = schema["paths"]["/api/v1/gestion/appels/{call_id}/dossiers"]["get"]
    assert staff_path["security"]  # documented as needing a token


def test_the_atom_feed_parses_and_lists_public_calls_only(world, client):
    response = client.get(reverse("api:calls_feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    titles = {entry.title for entry in feed.entries}
    assert titles == {
        f"{world[name].reference} – {world[name].title}"
        for name in ("published", "decided", "under_review")
    }
    for entry in feed.entries:
        assert entry.id.startswith("http://testserver/appels/")
        assert entry.link.startswith("http://testserver/appels/")
        assert entry.updated_parsed is not None


def test_the_api_is_throttled_per_client_address(world, client, settings):
    settings.THROTTLES = {**settings.THROTTLES, "api_ip": (2, 60)}
    url = reverse("api:list_calls")
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert json.loads(response.content)["detail"].startswith("Trop de requêtes : réessayez dans")
    # Another address has its own count.
    assert client.get(url, REMOTE_ADDR="192.0.2.77").status_code == 200


# --- Query counts --------------------------------------------------------------------------


def make_calls(count, *, start=0):
    programme = ProgrammeFactory()
    calls = Call.objects.bulk_create(
        CallFactory.build(programme=programme, reference=f"AAP-N-{n:04d}", slug=f"aap-n-{n:04d}")
        for n in range(start, start + count)
    )
    # Test data in bulk: a published call's structure is frozen for save().
    lots = Lot.objects.bulk_create(
        Lot(call=call, position=i, name=f"Lot {i}", fte=Decimal("0.5"))
        for call in calls
        for i in range(2)
    )
    criteria = Criterion.objects.bulk_create(
        Criterion(call=call, position=i, title=f"Critère {i}", weight=Decimal("50"))
        for call in calls
        for i in range(2)
    )
    SubCriterion.objects.bulk_create(
        SubCriterion(criterion=criterion, position=1, title="Sous-critère")
        for criterion in criteria
    )
    RequiredDocument.objects.bulk_create(
        RequiredDocument(call=call, position=1, label="Budget", allowed_formats=["pdf"])
        for call in calls
    )
    return calls, lots


def make_laureates(count, staff):
    call = add_structure(CallFactory(), lots=1)
    Call.objects.filter(pk=call.pk).update(status=CallStatus.DECIDED)
    lot = call.lots.get()
    organisations = Organisation.objects.bulk_create(
        OrganisationFactory.build() for _ in range(count)
    )
    dossiers = Candidature.objects.bulk_create(
        Candidature(
            call=call,
            organisation=organisation,
            status=CandidatureStatus.SUBMITTED,
            submitted_at=call.opens_at,
        )
        for organisation in organisations
    )
    Decision.objects.bulk_create(
        Decision(
            candidature=dossier,
            lot=lot,
            outcome=DecisionOutcome.SELECTED,
            amount_granted=Decimal("1000"),
            fte_granted=Decimal("0.5"),
            decided_by=staff,
        )
        for dossier in dossiers
    )


def queries_for(client, url, expected_items):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"limit": 1000})
    assert response.status_code == 200
    assert len(response.json()["items"]) == expected_items
    return len(context.captured_queries)


def test_the_calls_list_runs_as_many_queries_for_3_calls_as_for_300(db, client):
    make_calls(3)
    few = queries_for(client, reverse("api:list_calls"), 3)
    make_calls(297, start=3)
    assert queries_for(client, reverse("api:list_calls"), 300) == few


def test_the_laureates_list_runs_as_many_queries_for_3_laureates_as_for_300(db, client):
    staff = UserFactory()
    make_laureates(3, staff)
    few = queries_for(client, reverse("api:list_laureates"), 3)
    make_laureates(297, staff)
    assert queries_for(client, reverse("api:list_laureates"), 300) == few
