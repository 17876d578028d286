"""Staff API tokens: made and revoked from « Jetons d'accès à l'API », shown once and
stored as a digest; they read a call's dossiers' metadata with the screens' rule
(instructeurs and the DDETS read every dossier, no one else), and a revoked, unknown or
missing token gets 401."""

import html

import pytest
from django.urls import reverse

from api import tokens
from api.models import ApiToken, digest
from candidatures.models import Candidature
from candidatures.states import CandidatureStatus
from core.exceptions import DomainError
from tests.factories import OrganisationFactory, ready_call


@pytest.fixture
def call_with_dossiers(db, candidate):
    call = ready_call()
    submitted = Candidature.objects.create(
        call=call,
        organisation=OrganisationFactory(name="Structure Déposée"),
        status=CandidatureStatus.SUBMITTED,
        submitted_at=call.opens_at,
    )
    submitted.lots.add(call.lots.first())
    submitted.receipts.create(
        call=call,
        sequence=1,
        number="AAP-2024-0001",
        submitted_at=call.opens_at,
        submitted_by=candidate,
        manifest={},
    )
    Candidature.objects.create(call=call, organisation=OrganisationFactory(name="En Brouillon"))
    return call


def dossiers_url(call):
    return reverse("api:list_dossiers", args=[call.pk])


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_an_instructeur_makes_a_token_shown_once_and_stored_as_a_digest(instructeur, client):
    client.force_login(instructeur)
    response = client.post(reverse("api:tokens"), {"label": "Tableau de bord"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    text = html.unescape(response.content.decode())
    raw = text.split('<code id="new-token">')[1].split("</code>")[0]
    assert raw.startswith("aap_") and len(raw) > 40
    assert token.key_digest == digest(raw) and raw not in token.key_digest
    assert "Copiez-le maintenant : il ne sera plus jamais affiché." in text
    again = client.get(reverse("api:tokens")).content.decode()
    assert raw not in again and token.key_start in again


def test_an_instructeur_and_the_ddets_read_a_calls_dossiers_metadata(
    instructeur, ddets_reader, client, call_with_dossiers
):
    for user in (instructeur, ddets_reader):
        _token, raw = tokens.create_token(user, label="script")
        response = client.get(dossiers_url(call_with_dossiers), **bearer(raw))
        assert response.status_code == 200
        items = {item["organisation"]: item for item in response.json()["items"]}
        assert items["Structure Déposée"]["status"] == "submitted"
        assert items["Structure Déposée"]["lots"] == ["Lot 1"]
        assert items["Structure Déposée"]["receipt_number"] == "AAP-2024-0001"
        # As on the staff's dossier list, drafts are listed with their status.
        assert items["En Brouillon"]["status"] == "draft"
        assert items["En Brouillon"]["receipt_number"] is None
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 2


@pytest.mark.parametrize("persona", ["candidate", "evaluator"])
def test_other_roles_get_no_token_through_any_path(persona, request, client, call_with_dossiers):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("api:tokens")).status_code == 403
    assert client.post(reverse("api:tokens"), {"label": "x"}).status_code == 403
    with pytest.raises(DomainError):
        tokens.create_token(user, label="x")
    assert not ApiToken.objects.exists()
    # A token made for them in the shell still reads nothing.
    raw = "aap_made-in-the-shell"
    ApiToken.objects.create(user=user, label="shell", key_digest=digest(raw), key_start=raw[:10])
    client.logout()
    response = client.get(dossiers_url(call_with_dossiers), **bearer(raw))
    assert response.status_code == 403
    assert "Structure Déposée" not in response.content.decode()


def test_a_token_whose_holder_lost_the_role_reads_nothing(instructeur, client, call_with_dossiers):
    _token, raw = tokens.create_token(instructeur, label="script")
    instructeur.groups.clear()  # moved to another service: the token stays, the right goes
    assert client.get(dossiers_url(call_with_dossiers), **bearer(raw)).status_code == 403


def test_a_token_of_a_deactivated_account_gets_401(instructeur, client, call_with_dossiers):
    _token, raw = tokens.create_token(instructeur, label="script")
    instructeur.is_active = False
    instructeur.save()
    assert client.get(dossiers_url(call_with_dossiers), **bearer(raw)).status_code == 401


def test_revoked_unknown_and_missing_tokens_get_401(instructeur, client, call_with_dossiers):
    token, raw = tokens.create_token(instructeur, label="script")
    client.force_login(instructeur)
    response = client.post(reverse("api:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == instructeur
    client.logout()
    url = dossiers_url(call_with_dossiers)
    assert client.get(url, **bearer(raw)).status_code == 401
    assert client.get(url, **bearer("aap_unknown")).status_code == 401
    assert client.get(url).status_code == 401
    # A session does not stand for a token.
    client.force_login(instructeur)
    assert client.get(url).status_code == 401


def test_a_token_is_revoked_by_its_holder_only(instructeur, ddets_reader, client):
    token, _raw = tokens.create_token(instructeur, label="script")
    client.force_login(ddets_reader)
    assert client.post(reverse("api:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    tokens.revoke_token(token, by=instructeur)
    with pytest.raises(DomainError):
        tokens.revoke_token(token, by=instructeur)  # once only: who and when stay


def test_an_unknown_call_is_404_with_a_valid_token(instructeur, client, db):
    _token, raw = tokens.create_token(instructeur, label="script")
    response = client.get(reverse("api:list_dossiers", args=[999999]), **bearer(raw))
    assert response.status_code == 404


def test_the_token_page_by_persona(instructeur, ddets_reader, client):
    url = reverse("api:tokens")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )
    for user in (instructeur, ddets_reader):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "Vous n'avez pas encore de jeton." in html.unescape(response.content.decode())


def test_a_token_without_a_name_is_refused_in_french(instructeur, client):
    client.force_login(instructeur)
    response = client.post(reverse("api:tokens"), {"label": "  "})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in html.unescape(response.content.decode())
    assert not ApiToken.objects.exists()
