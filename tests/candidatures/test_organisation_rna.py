"""An association enters its RNA number (répertoire national des associations) on its
organisation sheet: « W » and 9 digits, checked with a clear French message by the form
and by the model (a shell or a service meets it too), typed with spaces or a small « w »
as people copy it, refused for an organisation that is not an association; shown on the
sheet and editable. The open data publishes it (``tests/conventions``)."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidatures.models import Candidature, Organisation
from tests.candidatures.test_organisations import organisation_data
from tests.factories import OrganisationFactory, dossier_ready_call

RNA_INVALID = (
    "Le numéro RNA (répertoire national des associations) s'écrit W suivi de 9 chiffres, "
    "par exemple W381234567."
)


def page(response) -> str:
    return html.unescape(response.content.decode())


def association_data(**overrides):
    return organisation_data(
        **{"name": "Association Trièves Emploi", "kind": "association", "rna": "W381234567"}
        | overrides
    )


def test_an_association_enters_its_rna_and_reads_it_on_its_sheet(candidate, client):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"), association_data(rna=" w 381 234 567 ")
    )
    organisation = Organisation.objects.get()
    assert response.status_code == 302
    assert organisation.rna == "W381234567"
    sheet = page(client.get(reverse("candidatures:organisation", args=[organisation.pk])))
    assert "Numéro RNA" in sheet and "W381234567" in sheet


@pytest.mark.parametrize(
    "value", ["W12345", "381234567", "W3812345678", "X381234567", "W38123456A"]
)
def test_a_malformed_rna_is_refused_with_a_french_message_and_nothing_is_lost(
    candidate, client, value
):
    client.force_login(candidate)
    response = client.post(reverse("candidatures:organisation_create"), association_data(rna=value))
    assert response.status_code == 200
    text = page(response)
    assert RNA_INVALID in text
    assert "Association Trièves Emploi" in text  # what was typed stays in the form
    assert not Organisation.objects.exists()


def test_only_an_association_has_an_rna(candidate, client):
    client.force_login(candidate)
    response = client.post(
        reverse("candidatures:organisation_create"),
        organisation_data(kind="epci", rna="W381234567"),
    )
    assert "Seule une association a un numéro RNA : laissez ce champ vide." in page(response)
    assert not Organisation.objects.exists()


def test_the_rna_is_editable_on_the_organisation_form(candidate, client):
    organisation = OrganisationFactory(kind="association", members=[candidate])
    client.force_login(candidate)
    url = reverse("candidatures:organisation_edit", args=[organisation.pk])
    form = page(client.get(url))
    assert 'name="rna"' in form and "W suivi de 9 chiffres" in form

    data = organisation_data(
        name=organisation.name, kind="association", siret=organisation.siret, rna="W380000001"
    )
    assert client.post(url, data).status_code == 302
    organisation.refresh_from_db()
    assert organisation.rna == "W380000001"

    refused = client.post(url, {**data, "rna": "W38"})
    assert RNA_INVALID in page(refused)
    organisation.refresh_from_db()
    assert organisation.rna == "W380000001"


def test_the_model_refuses_a_malformed_rna_whichever_path_saves(db):
    """What the shell, or a service that skips the form, would do."""
    organisation = OrganisationFactory(kind="association")
    organisation.rna = "W1"
    with pytest.raises(ValidationError, match="W suivi de 9 chiffres"):
        organisation.save()
    organisation.refresh_from_db()
    assert organisation.rna == ""


def test_staff_read_the_rna_on_the_dossier(client_for, instructeur):
    organisation = OrganisationFactory(kind="association", rna="W381234567")
    dossier = Candidature.objects.create(call=dossier_ready_call(), organisation=organisation)
    response = client_for(instructeur).get(reverse("candidatures:staff_dossier", args=[dossier.pk]))
    assert response.status_code == 200
    assert "RNA W381234567" in page(response)
