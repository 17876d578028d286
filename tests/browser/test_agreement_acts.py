"""Acts of a signed agreement in a real browser: an avenant that changes the schedule
(prepared, sent, signed; the schedule changes only at its signature), and a balance
refused before the final report and the compte rendu financier are accepted, then paid."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conventions import services
from conventions.models import Amendment, Convention
from conventions.states import AmendmentStatus, PaymentStatus, ReportStatus
from demo import modeles
from tests.browser.helpers import assert_every_field_labelled, label, log_in, log_out, menu
from tests.conventions.conftest import pay, select, sign
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

pytestmark = pytest.mark.browser

ORGANISATION = "Communauté de communes du Trièves"
SCAN = modeles.sample_pdf("Avenant n° 1 signé", ["Signé par les deux parties"])
REPORT = modeles.sample_pdf("Bilan final", ["Heures d'insertion : 21 000"])


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


@pytest.fixture
def member():
    return UserFactory(email="camille@cc-trieves.test", roles=["candidat"])


@pytest.fixture
def agreement(member, instructeur):
    """Signed and running since 9 December 2025, from 1 January 2026 to 31 December 2026."""
    organisation = OrganisationFactory(name=ORGANISATION, members=[member])
    decision = select(dossier_ready_call(), organisation, member, by=instructeur)
    return sign(services.create_convention(decision, by=instructeur), instructeur, start=True)


def message(page, text):
    expect(page.locator(".messages")).to_contain_text(text)


def payment_row(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile(name)))


def test_an_avenant_changes_the_schedule_of_a_signed_agreement(
    page, tmp_path, agreement, instructeur, member
):
    scan = tmp_path / "avenant-1-signe.pdf"
    scan.write_bytes(SCAN)
    log_in(page, instructeur.email)
    page.goto(f"/gestion/conventions/{agreement.pk}/")
    expect(page.locator("#versements")).to_contain_text("ne change que par un avenant signé")
    expect(
        page.locator("#versements").get_by_role("link", name=re.compile("Modifier"))
    ).to_have_count(0)

    # 1. The avenant is prepared: its text, amount and end, then its schedule.
    page.get_by_role("button", name="Préparer un avenant").click()
    message(page, "L'avenant n° 1 est en préparation.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Avenant n° 1 à la convention")
    assert_every_field_labelled(page)
    page.get_by_label(label("Ce que l'avenant modifie, et pourquoi")).fill(
        "Prolongation de trois mois ; le solde passe à 10 000 € (une action abandonnée)."
    )
    page.get_by_label(label("Montant de la convention après l'avenant (€)")).fill("22 250")
    page.get_by_label(label("Fin de la convention après l'avenant")).fill("2027-03-31")
    page.get_by_role("button", name="Enregistrer l'avenant").click()
    message(page, "L'avenant est enregistré.")
    page.get_by_role("button", name="Retirer Solde").click()
    message(page, "Le versement est retiré de l'échéancier de l'avenant.")
    page.get_by_text("Ajouter un versement à l'avenant").click()
    page.get_by_label(label("Versement")).fill("Solde")
    page.get_by_label(label("Échéance prévisionnelle")).fill("2027-06-30")
    page.get_by_label(label("Montant (€)")).fill("10 000")
    page.get_by_label(label("Condition du versement")).select_option("final_reports")
    page.get_by_role("button", name="Ajouter le versement").click()
    message(page, "Le versement est ajouté à l'échéancier de l'avenant.")
    expect(page.locator("[data-instalment=Solde]")).to_contain_text("10\u00a0000,00\u00a0€")

    # 2. Sent for signature: frozen, and the agreement's schedule has not changed yet.
    page.get_by_role("button", name="Envoyer l'avenant pour signature").click()
    message(page, "L'avenant est envoyé pour signature.")
    amendment = Amendment.objects.get()
    assert amendment.status == AmendmentStatus.SENT and len(amendment.document_sha256) == 64
    expect(page.locator("[data-sha256]")).to_contain_text(amendment.document_sha256)
    expect(page.get_by_role("button", name="Ajouter le versement")).to_have_count(0)
    page.get_by_role("link", name=agreement.number).click()
    expect(payment_row(page, "Solde")).to_contain_text("12\u00a0250,00\u00a0€")
    expect(page.locator("[data-amount]")).to_have_text("24\u00a0500,00\u00a0€")

    # 3. Signed with its scan: the schedule, the amount and the end change now.
    page.get_by_role("link", name=re.compile("Avenant n° 1")).click()
    page.get_by_label(label("Date de signature")).fill(timezone.localdate().isoformat())
    page.get_by_label(label("Avenant signé (PDF)")).set_input_files(scan)
    page.get_by_role("button", name="Enregistrer la signature de l'avenant").click()
    message(page, "L'avenant n° 1 est signé : la convention en tient compte.")
    expect(payment_row(page, "Solde")).to_contain_text("10\u00a0000,00\u00a0€")
    expect(payment_row(page, "Solde")).to_contain_text("30 juin 2027")
    expect(page.locator("[data-amount]")).to_have_text("22\u00a0250,00\u00a0€")
    expect(page.locator("[data-period]")).to_have_text("du 1 janvier 2026 au 31 mars 2027")
    expect(page.locator("[data-amendment='1']")).to_contain_text("Signé")
    convention = Convention.objects.get()
    assert list(convention.payments.values_list("label", "amount")) == [
        ("Avance à la signature", Decimal("12250.00")),
        ("Solde", Decimal("10000.00")),
    ]
    log_out(page)

    # 4. The organisation downloads the avenant exactly as it was sent.
    log_in(page, member.email)
    menu(page, "Mes conventions")
    page.get_by_role("link", name=convention.number).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Avenant n° 1 (PDF)").click()
    with amendment.document.open("rb") as handle:
        assert download.value.path().read_bytes() == handle.read()


def test_the_balance_is_refused_before_the_final_report_and_paid_after(
    page, tmp_path, agreement, instructeur, member
):
    pay(agreement.payments.get(label="Avance à la signature"), instructeur)
    report = tmp_path / "bilan-final.pdf"
    report.write_bytes(REPORT)

    # 1. The balance cannot be requested: its condition is not met.
    log_in(page, instructeur.email)
    page.goto(f"/gestion/conventions/{agreement.pk}/")
    expect(payment_row(page, "Solde")).to_contain_text(
        "Après validation du bilan final et du compte rendu financier (CERFA n° 15059)"
    )
    payment_row(page, "Solde").get_by_role("button", name="Enregistrer la demande : Solde").click()
    message(page, "« Solde » ne peut pas encore être demandé ni mandaté")
    message(page, "Pas encore validé : bilan final, compte rendu financier (CERFA n° 15059).")
    expect(payment_row(page, "Solde")).to_contain_text("Prévu")
    log_out(page)

    # 2. The organisation sends its final report and its compte rendu financier.
    log_in(page, member.email)
    page.goto(f"/candidatures/conventions/{agreement.pk}/")
    for kind in ("Bilan final", "Compte rendu financier (CERFA n° 15059)"):
        page.get_by_label(f"Fichier : {kind} (PDF, DOCX ou ODT)").set_input_files(report)
        page.get_by_role("button", name=f"Envoyer le bilan : {kind}").click()
        message(page, "est transmis au Service Insertion Vers l'Emploi.")
    log_out(page)

    # 3. The instructeur sends the account back once, then accepts both.
    log_in(page, instructeur.email)
    page.goto(f"/gestion/conventions/{agreement.pk}/")
    reports = page.locator("#bilans")
    reports.get_by_role("button", name="Valider : Bilan final").click()
    message(page, "Le bilan final est validé.")
    crf = "Compte rendu financier (CERFA n° 15059)"
    page.locator("#bilans summary", has_text=f"Renvoyer à la structure : {crf}").click()
    page.get_by_label(label("Motif du renvoi à la structure")).fill(
        "Les charges de personnel ne sont pas détaillées."
    )
    page.get_by_role("button", name=f"Renvoyer le bilan : {crf}").click()
    message(page, "est renvoyé à la structure.")
    payment_row(page, "Solde").get_by_role("button", name="Enregistrer la demande : Solde").click()
    message(page, "Pas encore validé : compte rendu financier (CERFA n° 15059).")
    log_out(page)
    log_in(page, member.email)
    page.goto(f"/candidatures/conventions/{agreement.pk}/")
    expect(page.locator("#bilans")).to_contain_text(
        "Les charges de personnel ne sont pas détaillées."
    )
    page.get_by_label(f"Remplacer le fichier : {crf} (PDF, DOCX ou ODT)").set_input_files(report)
    page.get_by_role("button", name=f"Envoyer le bilan : {crf}").click()
    message(page, "est transmis au Service Insertion Vers l'Emploi.")
    log_out(page)
    log_in(page, instructeur.email)
    page.goto(f"/gestion/conventions/{agreement.pk}/")
    page.locator("#bilans").get_by_role("button", name=f"Valider : {crf}").click()
    message(page, "validé")

    # 4. Now the balance is requested, ordered and paid.
    row = payment_row(page, "Solde")
    row.get_by_role("button", name="Enregistrer la demande : Solde").click()
    message(page, "La demande de versement est enregistrée.")
    row.get_by_label(label("Référence comptable du mandat")).fill("MANDAT-2026-0202")
    row.get_by_role("button", name="Enregistrer le mandatement : Solde").click()
    message(page, "Le mandatement est enregistré.")
    row.get_by_role("button", name="Enregistrer le versement : Solde").click()
    message(page, "Le versement est enregistré.")
    expect(page.locator("[data-money=paid]")).to_have_text("24\u00a0500,00\u00a0€")
    agreement.refresh_from_db()
    balance = agreement.payments.get(label="Solde")
    assert balance.status == PaymentStatus.PAID
    assert set(agreement.reports.exclude(kind="intermediate").values_list("status", flat=True)) == {
        ReportStatus.ACCEPTED
    }
