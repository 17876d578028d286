"""The subsidies open data: the SCDL « subventions » schema 2.1.1, at a public address,
with the signed agreements only, each column in the schema's format."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from conventions import services
from conventions.models import Convention, Payment
from tests.conventions.conftest import ORGANISATION, select, sign
from tests.factories import OrganisationFactory, dossier_ready_call

# The columns of schema.data.gouv.fr/scdl/subventions 2.1.1, in their order.
SCDL_COLUMNS = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
]
DATE = r"\d{4}-\d{2}-\d{2}"


def read_csv(client):
    response = client.get(reverse("conventions:opendata"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.reader(io.StringIO(response.content.decode("utf-8")))
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def agreements(convention, instructeur, other_candidate):
    """One agreement signed and started, one sent for signature, one draft."""
    signed = sign(convention, instructeur, start=True)
    other_call = dossier_ready_call()
    other = select(
        other_call,
        OrganisationFactory(name="GIP voisin", members=[other_candidate]),
        other_candidate,
        by=instructeur,
        amount=Decimal("12000.5"),
    )
    draft = services.create_convention(other, by=instructeur)
    sent = services.renew_convention(signed, by=instructeur)
    services.send_for_signature(sent, by=instructeur)
    return {"signed": signed, "draft": draft, "sent": sent}


def test_the_csv_has_the_scdl_columns_and_the_signed_agreements_only(agreements, client):
    header, rows = read_csv(client)
    assert header == SCDL_COLUMNS
    assert len(header) == 16
    assert [row["nomBeneficiaire"] for row in rows] == [agreements["signed"].beneficiary_name]
    # No deliberation entered on its decision: the reference is left empty (the schema
    # allows it), never replaced by the agreement's number.
    assert [row["referenceDecision"] for row in rows] == [""]


def test_each_column_has_the_schema_format(agreements, client, settings):
    signed = agreements["signed"]
    Convention.objects.filter(pk=signed.pk).update(subsidy_share=Decimal("0.8"))
    (row,) = read_csv(client)[1]
    assert row["nomAttribuant"] == settings.AUTHORITY_NAME
    assert re.fullmatch(r"\d{14}", row["idAttribuant"])
    assert row["idAttribuant"] == "22380001200013"
    assert re.fullmatch(DATE, row["dateConvention"])
    assert row["dateConvention"] == signed.signed_on.isoformat()
    assert row["nomBeneficiaire"] == ORGANISATION
    assert re.fullmatch(r"\d{14}", row["idBeneficiaire"])
    assert row["montant"] == "24500.00"
    assert re.fullmatch(r"\d+\.\d{2}", row["montant"])
    assert row["nature"] == "aide en numéraire"
    assert row["conditionsVersement"] == "Echelonné"
    assert re.fullmatch(rf"{DATE}(/{DATE})?", row["datesPeriodeVersement"])
    assert row["datesPeriodeVersement"] == f"{signed.year}-01-31/{signed.year + 1}-03-31"
    assert row["notificationUE"] == "non"
    assert 0 < Decimal(row["pourcentageSubvention"]) <= 1
    assert row["pourcentageSubvention"] == "0.8"
    assert "\n" not in row["objet"] and row["objet"]
    assert row["dispositifAide"].startswith(f"Appel à projets {signed.call.reference}")


def test_a_single_instalment_is_paid_at_once(agreements, client, instructeur):
    signed = agreements["signed"]
    Payment.objects.filter(convention=signed, label="Solde").delete()  # test data
    (row,) = read_csv(client)[1]
    assert row["conditionsVersement"] == "Unique"
    assert re.fullmatch(DATE, row["datesPeriodeVersement"])


def test_the_open_data_is_public(agreements, client_for, candidate, evaluator):
    for user in (None, candidate, evaluator):
        response = client_for(user).get(reverse("conventions:opendata"))
        assert response.status_code == 200


def test_without_the_authority_siret_the_answer_is_503_not_a_bad_file(agreements, client, settings):
    settings.AUTHORITY_SIRET = ""
    response = client.get(reverse("conventions:opendata"))
    assert response.status_code == 503
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert "SIRET" in body and "AUTHORITY_SIRET" in body
    assert "idAttribuant" not in body
