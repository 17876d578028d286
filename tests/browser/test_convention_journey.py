"""An agreement in a real browser, from a selected dossier to the money paid: the instructeur
prepares the agreement (its period starting the month after the decision), sends it,
records the signature with the signed PDF and starts it, then pays the advance (request,
order with its accounting reference, payment); the organisation's member sends a report
and enters indicator values, and sees the chart; the dashboard shows what was paid."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conventions.models import Convention, Indicator, IndicatorValue, Report
from conventions.states import ConventionStatus, PaymentStatus, ReportKind
from demo import modeles
from tests.browser.helpers import assert_every_field_labelled, label, log_in, log_out, menu
from tests.conventions.conftest import select
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

pytestmark = pytest.mark.browser

ORGANISATION = "Communauté de communes du Trièves"
SIGNED_PDF = modeles.sample_pdf("Convention de partenariat signée", ["Signée par les deux parties"])
REPORT_PDF = modeles.sample_pdf("Bilan intermédiaire", ["Réunions du réseau : 3"])


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


def message(page, text):
    expect(page.locator(".messages")).to_contain_text(text)


def pay_instalment(page, name, reference):
    """Request, order with the accounting reference, then pay, each from its row."""
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(name)))
    expect(row).to_contain_text("Prévu")
    row.get_by_role("button", name=f"Enregistrer la demande : {name}").click()
    message(page, "La demande de versement est enregistrée.")
    expect(row).to_contain_text("Demandé")
    row.get_by_label(label("Référence comptable du mandat")).fill(reference)
    row.get_by_role("button", name=f"Enregistrer le mandatement : {name}").click()
    message(page, "Le mandatement est enregistré.")
    expect(row).to_contain_text(f"(mandat {reference})")
    row.get_by_role("button", name=f"Enregistrer le versement : {name}").click()
    message(page, "Le versement est enregistré.")
    expect(row).to_contain_text("Versé le")


def test_from_a_selected_dossier_to_a_signed_agreement_paid_and_followed(
    page, tmp_path, instructeur
):
    member = UserFactory(email="camille@cc-trieves.test", roles=["candidat"])
    organisation = OrganisationFactory(name=ORGANISATION, members=[member])
    decision = select(dossier_ready_call(), organisation, member, by=instructeur)
    call = decision.candidature.call
    meetings = Indicator.objects.create(
        call=call, position=1, label="Réunions du réseau co-animées", target=Decimal("8")
    )
    Indicator.objects.create(
        call=call,
        position=2,
        label="Actions avec le secteur du handicap",
        unit="actions",
        target=Decimal("4"),
    )
    signed_pdf = tmp_path / "convention-signee.pdf"
    signed_pdf.write_bytes(SIGNED_PDF)
    report_pdf = tmp_path / "bilan-intermediaire.pdf"
    report_pdf.write_bytes(REPORT_PDF)

    # 1. From the dossier's evaluation page, the instructeur prepares the agreement.
    log_in(page, instructeur.email)
    page.goto(f"/gestion/dossiers/{decision.candidature_id}/evaluations/")
    page.get_by_role("link", name=re.compile(r"^Préparer la convention")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Préparer la convention : {ORGANISATION}"
    )
    expect(page.locator("dl")).to_contain_text("24\u00a0500,00\u00a0€")
    assert_every_field_labelled(page)
    # Decided on 9 December 2025: the agreement runs from 1 January 2026, never before.
    expect(page.get_by_label(label("Début de la convention"))).to_have_value("2026-01-01")
    expect(page.get_by_label(label("Fin de la convention"))).to_have_value("2026-12-31")
    page.get_by_role("button", name="Préparer la convention").click()
    message(page, "est préparée en brouillon.")
    convention = Convention.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Convention {convention.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Brouillon")

    # 2. Sent for signature, then signed with the scan, then started.
    page.get_by_role("button", name="Envoyer pour signature").click()
    message(page, "La convention est envoyée pour signature.")
    assert_every_field_labelled(page)
    page.get_by_label(label("Date de signature")).fill(timezone.localdate().isoformat())
    page.get_by_label(label("Convention signée (PDF)")).set_input_files(signed_pdf)
    page.get_by_role("button", name="Enregistrer la signature").click()
    message(page, "La signature est enregistrée avec la convention signée.")
    expect(page.get_by_role("link", name="Convention signée (PDF)")).to_be_visible()
    page.get_by_role("button", name="Démarrer l'exécution").click()
    message(page, "L'exécution de la convention a démarré.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("En cours d'exécution")

    # 3. The advance paid (the balance waits for the final reports).
    pay_instalment(page, "Avance à la signature", "MANDAT-2025-0101")
    expect(page.locator("[data-money=paid]")).to_have_text("12\u00a0250,00\u00a0€")
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.IN_PROGRESS
    assert convention.signed_scan_name == "convention-signee.pdf"
    assert list(convention.payments.values_list("status", "accounting_reference")) == [
        (PaymentStatus.PAID, "MANDAT-2025-0101"),
        (PaymentStatus.PLANNED, ""),
    ]
    log_out(page)

    # 4. The organisation's member sends the intermediate report.
    log_in(page, member.email)
    menu(page, "Mes conventions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes conventions")
    page.get_by_role("link", name=convention.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Convention {convention.number}")
    expect(page.locator("#versements")).to_contain_text(
        "Reçu : 12\u00a0250,00\u00a0€ ; reste à recevoir : 12\u00a0250,00\u00a0€."
    )
    assert_every_field_labelled(page)
    page.get_by_label("Fichier : Bilan intermédiaire (PDF, DOCX ou ODT)").set_input_files(
        report_pdf
    )
    page.get_by_role("button", name="Envoyer le bilan : Bilan intermédiaire").click()
    message(page, "Votre bilan intermédiaire est transmis au Service Insertion Vers l'Emploi.")
    expect(page.get_by_role("link", name="bilan-intermediaire.pdf")).to_be_visible()
    report = Report.objects.get(convention=convention, kind=ReportKind.INTERMEDIATE)
    assert (report.file_name, report.submitted_by) == ("bilan-intermediaire.pdf", member)

    # 5. Indicator values for the first quarter, and the chart against the targets.
    page.get_by_role("link", name="Renseigner les indicateurs").click()
    page.get_by_role("link", name="Trimestre 1", exact=True).click()
    assert_every_field_labelled(page)
    page.get_by_label(label("Réunions du réseau co-animées (nombre)")).fill("3")
    page.get_by_label(label("Actions avec le secteur du handicap (actions)")).fill("1")
    page.get_by_role("button", name="Enregistrer les valeurs").click()
    message(page, "Les valeurs du trimestre 1 sont enregistrées.")
    assert IndicatorValue.objects.get(indicator=meetings).value == Decimal("3")
    canvases = page.locator("canvas[data-kind=indicator]")
    expect(canvases).to_have_count(2)
    page.wait_for_function("() => typeof Chart !== 'undefined'")  # deferred scripts
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas[data-kind=indicator]'))"
        ".map((canvas) => Chart.getChart(canvas) !== undefined)"
    )
    assert drawn == [True, True]
    table = page.get_by_role("table", name="Réunions du réseau co-animées : valeurs par trimestre")
    expect(table.get_by_role("row").filter(has_text="T1")).to_contain_text("3")
    expect(table).to_contain_text("3 / 8 (38 %)")
    log_out(page)

    # 6. The dashboard shows what was paid.
    log_in(page, instructeur.email)
    menu(page, "Conventions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conventions de partenariat")
    row = page.get_by_role("row").filter(has_text=convention.number)
    expect(row.locator("[data-paid]")).to_have_text("12\u00a0250,00\u00a0€")
    expect(page.locator("[data-total=paid]")).to_have_text("12\u00a0250,00\u00a0€")
    expect(page.locator("canvas[data-kind=money]")).to_have_count(3)
