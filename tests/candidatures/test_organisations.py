"""Organisations: creation with a checked SIRET, members, invitations, and one dossier per
organisation and call."""

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from candidatures.models import Candidature, Invitation, Membership, Organisation, Territory
from core.models import User
from core.roles import Role
from tests.factories import OrganisationFactory, UserFactory

SIRET_INVALID = "Ce numéro SIRET n'est pas valide : il compte 14 chiffres, vérifiez-les."
SIRET_TAKEN = (
    "Une structure avec ce SIRET existe déjà sur la plateforme. Demandez à l'un de ses "
    "membres de vous inviter."
)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def organisation_data(**overrides):
    data = {
        "name": "Communauté de communes du Grésivaudan (test)",
        "kind": "epci",
        "siret": "73282932000074",
        "address": "390 rue Henri Fabre",
        "postal_code": "38920",
        "city": "Crolles",
        "legal_representative_name": "Henri Baile",
        "legal_representative_role": "Président",
        "legal_representative_email": "president@cc-test.test",
    }
    data.update(overrides)
    return data


# --- Creating an organisation ---------------------------------------------------------------


def test_creating_an_organisation_makes_the_creator_its_member(candidate, client):
    client.force_login(candidate)
    response = client.post(reverse("candidatures:organisation_create"), organisation_data())
    organisation = Organisation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("candidatures:organisation", args=[organisation.pk])
    assert organisation.name == "Communauté de communes du Grésivaudan (test)"
    assert organisation.created_by == candidate
    assert list(organisation.memberships.values_list("user", flat=True)) == [candidate.pk]
    page = page_text(client.get(response["Location"]))
    assert "La structure est créée. Vous en êtes membre." in page


def test_creating_an_organisation_from_a_call_goes_on_to_the_dossier(candidate, client, call):
    client.force_login(candidate)
    url = f"{reverse('candidatures:organisation_create')}?appel={call.slug}"
    response = client.post(url, organisation_data(), follow=True)
    dossier = Candidature.objects.get()
    assert dossier.call == call
    assert response.redirect_chain[-1][0] == reverse("candidatures:dossier", args=[dossier.pk])


def test_creating_an_organisation_from_a_closed_call_keeps_it_and_says_why(candidate, client, call):
    client.force_login(candidate)
    url = f"{reverse('candidatures:organisation_create')}?appel={call.slug}"
    with time_machine.travel(call.deadline + dt.timedelta(seconds=1)):
        client.force_login(candidate)
        response = client.post(url, organisation_data(), follow=True)
    assert response.redirect_chain[-1][0] == call.get_absolute_url()
    assert "Cet appel à projets ne reçoit pas de dossiers en ce moment." in page_text(response)
    assert Organisation.objects.filter(memberships__user=candidate).count() == 1
    assert not Candidature.objects.exists()


@pytest.mark.parametrize(
    "siret",
    [
        pytest.param("73282932000075", id="wrong-checksum"),
        pytest.param("7328293200007", id="13-digits"),
        pytest.param("7328293200007A", id="letters"),
        pytest.param("ABCDEFGHIJKLMN", id="only-letters"),
    ],
)
def test_an_invalid_siret_is_refused_in_french(candidate, client, siret):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"), organisation_data(siret=siret)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["siret"] == [SIRET_INVALID]
    assert SIRET_INVALID in page_text(response)
    assert not Organisation.objects.exists()
    assert not Membership.objects.exists()


def test_a_siret_pasted_with_spaces_is_accepted_and_stored_compact(candidate, client):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"), organisation_data(siret="732 829 320 00074")
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Organisation.objects.get().siret == "73282932000074"


def test_a_siret_already_registered_asks_for_an_invitation(candidate, other_candidate, client):
    existing = OrganisationFactory(siret="73282932000074", members=[other_candidate])
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"), organisation_data(siret="732 829 320 00074")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["siret"] == [SIRET_TAKEN]
    assert SIRET_TAKEN in page_text(response)
    assert list(Organisation.objects.all()) == [existing]
    assert not Membership.objects.filter(user=candidate).exists()


def test_the_service_refuses_a_registered_siret_with_the_same_message(candidate, other_candidate):
    from candidatures import services
    from core.exceptions import DomainError

    OrganisationFactory(siret="73282932000074", members=[other_candidate])
    data = organisation_data()
    with pytest.raises(DomainError) as refusal:
        services.create_organisation(by=candidate, **data)
    assert refusal.value.message == SIRET_TAKEN
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize("postal_code", ["3800", "38 00", "ABCDE", "38OOO"])
def test_a_postal_code_without_five_digits_is_refused(candidate, client, postal_code):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"), organisation_data(postal_code=postal_code)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["postal_code"] == ["Le code postal compte 5 chiffres."]
    assert "Le code postal compte 5 chiffres." in page_text(response)
    assert not Organisation.objects.exists()


def test_the_territories_chosen_are_saved(candidate, client):
    chosen = list(Territory.objects.filter(is_active=True).order_by("name")[:2])
    client.force_login(candidate)
    client.post(
        reverse("candidatures:organisation_create"),
        organisation_data(territories=[t.pk for t in chosen]),
    )
    organisation = Organisation.objects.get()
    assert list(organisation.territories.order_by("name")) == chosen
    page = page_text(client.get(reverse("candidatures:organisation", args=[organisation.pk])))
    assert f"{chosen[0].name}, {chosen[1].name}" in page


def test_only_candidates_create_organisations(instructeur, client):
    client.force_login(instructeur)
    response = client.post(reverse("candidatures:organisation_create"), organisation_data())
    assert response.status_code == 403
    assert not Organisation.objects.exists()


# --- Editing, and who sees an organisation ---------------------------------------------------


def test_a_member_edits_the_organisation(candidate, client, organisation):
    territory = Territory.objects.order_by("name").first()
    client.force_login(candidate)
    data = organisation_data(
        siret=organisation.siret, name="Nouveau nom", city="Mens", territories=[territory.pk]
    )
    response = client.post(reverse("candidatures:organisation_edit", args=[organisation.pk]), data)
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.name, organisation.city) == ("Nouveau nom", "Mens")
    assert list(organisation.territories.all()) == [territory]
    page = page_text(client.get(response["Location"]))
    assert "Les informations de la structure sont enregistrées." in page


def test_editing_keeps_the_siret_check(candidate, client, organisation):
    client.force_login(candidate)
    siret_before = organisation.siret
    response = client.post(
        reverse("candidatures:organisation_edit", args=[organisation.pk]),
        organisation_data(siret="73282932000075"),
    )
    assert response.context["form"].errors["siret"] == [SIRET_INVALID]
    organisation.refresh_from_db()
    assert organisation.siret == siret_before


@pytest.mark.parametrize("url_name", ["organisation", "organisation_edit"])
def test_a_non_member_gets_404_on_the_organisation_pages(
    other_candidate, client, organisation, url_name
):
    client.force_login(other_candidate)
    response = client.get(reverse(f"candidatures:{url_name}", args=[organisation.pk]))
    assert response.status_code == 404
    assert organisation.siret not in response.content.decode()


def test_a_non_member_cannot_edit_the_organisation(other_candidate, client, organisation):
    client.force_login(other_candidate)
    response = client.post(
        reverse("candidatures:organisation_edit", args=[organisation.pk]),
        organisation_data(siret=organisation.siret, name="Pris"),
    )
    assert response.status_code == 404
    organisation.refresh_from_db()
    assert organisation.name != "Pris"


# --- Invitations --------------------------------------------------------------------------------


def invite(client, organisation, email):
    return client.post(
        reverse("candidatures:invite", args=[organisation.pk]), {"email": email}, follow=True
    )


def test_a_member_invites_a_colleague_who_receives_one_email_with_the_link(
    candidate, client, organisation, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(candidate)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, organisation, "Nadia@Exemple.test")
    invitation = Invitation.objects.get()
    assert invitation.email == "nadia@exemple.test"
    assert invitation.invited_by == candidate
    assert invitation.organisation == organisation
    assert "Invitation envoyée à nadia@exemple.test : le lien est valable 14 jours." in page_text(
        response
    )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["nadia@exemple.test"]
    assert message.subject == f"[AAP Isère] Invitation à rejoindre {organisation.name}"
    link = f"http://testserver{reverse('candidatures:invitation', args=[invitation.token])}"
    assert link in message.body
    assert link in message.alternatives[0][0]


def test_the_invited_person_accepts_and_becomes_a_member_and_a_candidate(
    organisation, candidate, client
):
    invited = UserFactory(email="nadia@exemple.test", roles=[])
    invitation = Invitation.objects.create(
        organisation=organisation,
        email="nadia@exemple.test",
        invited_by=candidate,
        expires_at=timezone.now() + dt.timedelta(days=14),
    )
    client.force_login(invited)
    url = reverse("candidatures:invitation", args=[invitation.token])
    assert f"Rejoindre {organisation.name}" in page_text(client.get(url))
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "candidatures:organisation", args=[organisation.pk]
    )
    assert f"Vous êtes membre de {organisation.name}." in page_text(response)
    assert Membership.objects.filter(organisation=organisation, user=invited).exists()
    assert User.objects.get(pk=invited.pk).has_role(Role.CANDIDAT)
    invitation.refresh_from_db()
    assert invitation.accepted_by == invited
    assert invitation.accepted_at is not None


@pytest.fixture
def invitation(organisation, candidate):
    return Invitation.objects.create(
        organisation=organisation,
        email="nadia@exemple.test",
        invited_by=candidate,
        expires_at=timezone.now() + dt.timedelta(days=14),
    )


def test_accepting_with_another_address_is_refused(invitation, other_candidate, client):
    client.force_login(other_candidate)
    response = client.post(reverse("candidatures:invitation", args=[invitation.token]), follow=True)
    assert (
        "Cette invitation a été envoyée à une autre adresse électronique. Connectez-vous avec "
        "le compte de l'adresse invitée." in page_text(response)
    )
    assert not Membership.objects.filter(user=other_candidate).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_expired_invitation_is_refused(invitation, client):
    invited = UserFactory(email="nadia@exemple.test", roles=[Role.CANDIDAT])
    with time_machine.travel(invitation.expires_at + dt.timedelta(seconds=1)):
        client.force_login(invited)
        url = reverse("candidatures:invitation", args=[invitation.token])
        assert "Cette invitation a expiré ou a déjà servi." in page_text(client.get(url))
        response = client.post(url, follow=True)
    assert "Cette invitation a expiré ou a déjà servi. Demandez-en une nouvelle." in page_text(
        response
    )
    assert not Membership.objects.filter(user=invited).exists()


def test_an_invitation_already_used_is_refused(invitation, client):
    invited = UserFactory(email="nadia@exemple.test", roles=[Role.CANDIDAT])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = invited
    invitation.save()
    client.force_login(invited)
    response = client.post(reverse("candidatures:invitation", args=[invitation.token]), follow=True)
    assert "Cette invitation a expiré ou a déjà servi. Demandez-en une nouvelle." in page_text(
        response
    )
    assert not Membership.objects.filter(user=invited).exists()


def test_accepting_twice_keeps_one_membership(invitation, client):
    invited = UserFactory(email="nadia@exemple.test", roles=[Role.CANDIDAT])
    client.force_login(invited)
    url = reverse("candidatures:invitation", args=[invitation.token])
    client.post(url)
    response = client.post(url, follow=True)
    assert "Cette invitation a expiré ou a déjà servi. Demandez-en une nouvelle." in page_text(
        response
    )
    assert Membership.objects.filter(user=invited).count() == 1


def test_an_unknown_invitation_token_is_not_found(candidate, client):
    client.force_login(candidate)
    response = client.get(reverse("candidatures:invitation", args=["pas-un-jeton"]))
    assert response.status_code == 404


def test_inviting_someone_already_a_member_is_refused(
    candidate, other_candidate, client, organisation, mailoutbox, django_capture_on_commit_callbacks
):
    Membership.objects.create(organisation=organisation, user=other_candidate)
    client.force_login(candidate)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, organisation, other_candidate.email.upper())
    assert "Cette personne est déjà membre de la structure." in page_text(response)
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_an_invalid_address_is_refused(candidate, client, organisation):
    client.force_login(candidate)
    response = invite(client, organisation, "pas-une-adresse")
    assert "Indiquez une adresse électronique valide." in page_text(response)
    assert not Invitation.objects.exists()


def test_a_non_member_cannot_invite(other_candidate, client, organisation, mailoutbox):
    client.force_login(other_candidate)
    response = client.post(
        reverse("candidatures:invite", args=[organisation.pk]), {"email": "x@exemple.test"}
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


# --- Starting a dossier ---------------------------------------------------------------------------


def test_with_several_organisations_the_start_view_asks_which_one(candidate, client, call):
    first = OrganisationFactory(name="Association Alpha", members=[candidate])
    second = OrganisationFactory(name="GIP Bêta", members=[candidate])
    OrganisationFactory(name="Structure d'un autre", members=[])
    client.force_login(candidate)
    url = reverse("candidatures:start", args=[call.slug])
    response = client.get(url)
    assert response.status_code == 200
    page = page_text(response)
    assert "Pour quelle structure ?" in page
    assert list(response.context["organisations"]) == [first, second]
    assert "Structure d'un autre" not in page
    assert not Candidature.objects.exists()
    response = client.post(url, {"organisation": second.pk})
    dossier = Candidature.objects.get()
    assert dossier.organisation == second
    assert response["Location"] == reverse("candidatures:dossier", args=[dossier.pk])


def test_the_start_view_refuses_an_organisation_the_user_is_not_member_of(
    candidate, client, call, organisation, other_organisation
):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:start", args=[call.slug]), {"organisation": other_organisation.pk}
    )
    assert response.status_code == 404
    assert not Candidature.objects.exists()


def test_without_an_organisation_the_start_view_asks_to_create_one(candidate, client, call):
    client.force_login(candidate)
    response = client.get(reverse("candidatures:start", args=[call.slug]), follow=True)
    assert response.redirect_chain[-1][0] == (
        f"{reverse('candidatures:organisation_create')}?appel={call.slug}"
    )
    assert "Pour candidater, créez d'abord la fiche de votre structure." in page_text(response)


def test_following_the_link_creates_nothing_the_button_creates_the_dossier_once(
    candidate, client, call, organisation
):
    client.force_login(candidate)
    url = reverse("candidatures:start", args=[call.slug])
    response = client.get(url)
    assert response.status_code == 200
    page = page_text(response)
    assert f"Le dossier sera ouvert au nom de <strong>{organisation.name}</strong>" in page
    deadline = date_format(timezone.localtime(call.deadline), "DATETIME_FORMAT")
    assert f"le déposer jusqu'au {deadline}." in page
    assert not Candidature.objects.exists()
    # A double click on "Créer le dossier": one dossier, both answers lead to it.
    first = client.post(url, {"organisation": organisation.pk})
    second = client.post(url, {"organisation": organisation.pk})
    dossier = Candidature.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("candidatures:dossier", args=[dossier.pk])
    assert (dossier.organisation, dossier.call, dossier.created_by) == (
        organisation,
        call,
        candidate,
    )
    # Once it exists, the link leads straight to it.
    assert client.get(url)["Location"] == first["Location"]


def test_with_several_organisations_the_ones_with_a_dossier_link_to_it(candidate, client, call):
    started = OrganisationFactory(name="Association Alpha", members=[candidate])
    OrganisationFactory(name="GIP Bêta", members=[candidate])
    client.force_login(candidate)
    url = reverse("candidatures:start", args=[call.slug])
    client.post(url, {"organisation": started.pk})
    dossier = Candidature.objects.get()
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("candidatures:dossier", args=[dossier.pk]) in content
    assert f'value="{started.pk}"' not in content
    assert Candidature.objects.count() == 1


def test_a_closed_call_refuses_to_start_a_dossier(candidate, client, call, organisation):
    client.force_login(candidate)
    with time_machine.travel(call.deadline + dt.timedelta(seconds=1)):
        client.force_login(candidate)
        response = client.get(reverse("candidatures:start", args=[call.slug]), follow=True)
    assert response.redirect_chain[-1][0] == call.get_absolute_url()
    assert "Cet appel à projets ne reçoit pas de dossiers en ce moment." in page_text(response)
    assert not Candidature.objects.exists()


def test_a_closed_call_still_opens_the_dossier_already_started(
    candidate, client, call, organisation, dossier
):
    with time_machine.travel(call.deadline + dt.timedelta(seconds=1)):
        client.force_login(candidate)
        response = client.get(reverse("candidatures:start", args=[call.slug]))
    assert response["Location"] == reverse("candidatures:dossier", args=[dossier.pk])
    assert Candidature.objects.count() == 1
