"""The subsidies open data validates against the SCDL « subventions » schema 2.1.1, the
file committed in ``conventions/schemas/`` (origin and version in its README), read by
the ``frictionless`` library: a realistic export (an EPCI, an association with its RNA
number, an EPCI whose deliberation is not entered yet, a renewal, a draft left out) has
zero errors; the same validation catches a wrong value, so it is not vacuous. The
schema's Validata checks (SIRET checksum, a SIRET or an RNA) are checked here too."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from frictionless import Resource, Schema
from stdnum.fr import siret

from candidatures.models import Organisation
from conventions import services
from evaluation import services as evaluation_services
from tests.conventions.conftest import ORGANISATION, select, sign
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

SCHEMA = Path(settings.BASE_DIR) / "conventions" / "schemas" / "scdl-subventions-2.1.1.schema.json"
ASSOCIATION = "Association Trièves Emploi"
RNA = "W381234567"
LATE = "Communauté de communes du Grésivaudan"


def deliberate(decision, by, reference):
    """The deliberation's reference entered on the decision, through the decision form's
    service, before any notification."""
    return evaluation_services.record_decision(
        decision.candidature,
        decision.lot,
        by=by,
        outcome=decision.outcome,
        amount_granted=decision.amount_granted,
        fte_granted=decision.fte_granted,
        deliberation=reference,
    )


@pytest.fixture
def export(selected_decision, convention, instructeur, other_candidate):
    deliberate(selected_decision, instructeur, "2026 CP03 12-4")
    epci = sign(convention, instructeur, start=True)
    association = select(
        dossier_ready_call(),
        OrganisationFactory(
            name=ASSOCIATION, kind="association", rna=RNA, members=[other_candidate]
        ),
        other_candidate,
        by=instructeur,
        amount=Decimal("12000.50"),
        fte=Decimal("0.25"),
    )
    deliberate(association, instructeur, "2026 CP03 12-5")
    association_agreement = sign(
        services.create_convention(association, by=instructeur), instructeur
    )
    member = UserFactory(roles=["candidat"])
    late = select(
        dossier_ready_call(),
        OrganisationFactory(name=LATE, members=[member]),
        member,
        by=instructeur,
    )
    late_agreement = sign(services.create_convention(late, by=instructeur), instructeur)
    renewal = sign(services.renew_convention(epci, by=instructeur), instructeur)
    other = UserFactory(roles=["candidat"])
    draft = services.create_convention(
        select(dossier_ready_call(), OrganisationFactory(members=[other]), other, by=instructeur),
        by=instructeur,
    )
    return {
        "epci": epci,
        "association": association_agreement,
        "late": late_agreement,
        "renewal": renewal,
        "draft": draft,
    }


def published(client) -> bytes:
    response = client.get(reverse("conventions:opendata"))
    assert response.status_code == 200
    return response.content


def rows_of(content: bytes) -> dict[str, dict]:
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    return {row["nomBeneficiaire"]: row for row in reader}


def scdl_schema() -> Schema:
    # The descriptor itself: frictionless refuses an absolute path as « not safe ».
    return Schema.from_descriptor(json.loads(SCHEMA.read_text(encoding="utf-8")))


def validate(content: bytes):
    schema = scdl_schema()
    return Resource(data=content, format="csv", encoding="utf-8", schema=schema).validate()


def errors(report) -> list:
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_committed_schema_is_the_scdl_subventions_2_1_1():
    schema = scdl_schema()
    assert (schema.name, schema.custom["version"]) == ("subventions", "2.1.1")
    assert len(schema.fields) == 16


def test_a_realistic_export_validates_with_zero_errors(export, client):
    content = published(client)

    report = validate(content)

    assert errors(report) == []
    assert report.valid
    assert report.tasks[0].stats["rows"] == 4  # the draft is not published
    rows = rows_of(content)
    assert rows[ASSOCIATION]["rnaBeneficiaire"] == RNA
    assert rows[ASSOCIATION]["referenceDecision"] == "2026 CP03 12-5"
    assert rows[LATE]["rnaBeneficiaire"] == "" and rows[LATE]["referenceDecision"] == ""
    epci_rows = [
        row
        for row in csv.DictReader(io.StringIO(content.decode()))
        if row["nomBeneficiaire"] == ORGANISATION
    ]
    assert [row["referenceDecision"] for row in epci_rows] == ["2026 CP03 12-4"] * 2
    assert all(row["rnaBeneficiaire"] == "" for row in epci_rows)
    # The schema's Validata checks, which frictionless does not run.
    for row in csv.DictReader(io.StringIO(content.decode())):
        assert siret.is_valid(row["idAttribuant"]) and siret.is_valid(row["idBeneficiaire"])
        assert row["idBeneficiaire"] or row["rnaBeneficiaire"]


def test_the_period_of_payments_is_an_iso_interval(export, client):
    row = rows_of(published(client))[ASSOCIATION]
    year = export["association"].year
    assert row["datesPeriodeVersement"] == f"{year}-01-31/{year + 1}-03-31"


def test_the_validation_catches_a_wrong_value(export, client):
    """The old period's separator, and an RNA number stored past the form (the code's own
    bulk update), both fail: the validation above is not vacuous."""
    content = published(client)
    old_separator = content.replace(b"-01-31/", b"-01-31_")
    assert ("datesPeriodeVersement", "constraint-error") in {
        (field, kind) for _row, field, kind, _note in errors(validate(old_separator))
    }

    Organisation.objects.filter(name=ASSOCIATION).update(rna="W12345")
    report = validate(published(client))
    assert not report.valid
    assert [(field, kind) for _row, field, kind, _note in errors(report)] == [
        ("rnaBeneficiaire", "constraint-error")
    ]


def test_staff_are_told_which_agreements_lack_their_deliberation(export, client_for, instructeur):
    page = client_for(instructeur).get(reverse("conventions:dashboard")).content.decode()
    warning = page[page.index('data-opendata="without-deliberation"') :]
    warning = warning[: warning.index("</p>")]
    assert export["late"].number in warning
    assert export["epci"].number not in warning and export["association"].number not in warning


def test_an_authority_siret_whose_checksum_fails_publishes_nothing(export, client, settings):
    settings.AUTHORITY_SIRET = "22380001800014"  # 14 digits, a wrong check digit
    response = client.get(reverse("conventions:opendata"))
    assert response.status_code == 503
    assert "AUTHORITY_SIRET" in response.content.decode()
