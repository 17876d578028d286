"""A candidate's whole journey in a real browser, as a person does it with the labels:
sign up, create the organisation, open the dossier of the demonstration call, answer
the form, attach real office files, submit, and keep the receipt that proves it."""

import datetime as dt
import hashlib
import io
import re

import pytest
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from candidatures.models import Candidature, Receipt
from candidatures.states import CandidatureStatus
from core.models import EmailStatus, OutgoingEmail
from demo import modeles
from demo.loader import load_demo
from demo.seed import DEMO_REFERENCE, EXPECTED_ACTIONS, QUESTIONS, required_documents
from tests.browser.helpers import (
    assert_every_field_labelled,
    follow_verification_link,
    label,
    log_in,
    sign_up,
    submitted_message,
)
from tests.pdf import pdf_text

pytestmark = pytest.mark.browser

EMAIL = "camille.durand@cc-trieves.test"
PASSWORD = "Un-mot-de-passe-solide-2024"
ORGANISATION = "Communauté de communes du Trièves"
SIRET = "73282932000074"

# The demonstration copy makes the dossier de demande from the answers: no DOCX to send.
REQUIRED_DOCUMENTS = required_documents(generated=True)
BUDGETS, ATTESTATION, CVS = (piece["label"] for piece in REQUIRED_DOCUMENTS)


def structure_budget_xlsx() -> bytes:
    """A second, different spreadsheet: the budget of the structure."""
    workbook = load_workbook(io.BytesIO(modeles.budget_xlsx()))
    workbook.active["A1"] = "Budget prévisionnel de la structure – Communauté de communes"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(page, piece, name, content, mime, *, adding=False):
    """Choose a file for one piece by its label, then send it with the piece's button."""
    chooser = "Ajouter un fichier" if adding else "Choisir le fichier"
    page.get_by_label(f"{chooser} : {piece}", exact=True).set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    page.get_by_role("button", name=f"Envoyer : {piece}", exact=True).click()


def piece_section(page, piece):
    return page.get_by_role("region", name=re.compile("^" + re.escape(piece)))


def test_candidate_signs_up_fills_uploads_submits_and_keeps_the_receipt(page, tmp_path):
    load_demo(with_accounts=False)
    required_questions = [q for q in QUESTIONS if q["kind"] != "lots" and q.get("required", True)]

    # 1. Sign up, verify the address through the e-mail, log in.
    sign_up(
        page,
        first_name="Camille",
        last_name="Durand",
        email=EMAIL,
        password=PASSWORD,
        job_title="Facilitatrice clauses sociales",
        phone="04 76 34 00 00",
    )
    follow_verification_link(page, EMAIL)
    log_in(page, EMAIL, PASSWORD)

    # 2. "Mes dossiers", then the organisation's record; an invalid SIRET is refused.
    expect(page).to_have_url(re.compile(r"/candidatures/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    page.get_by_role("link", name="Créer la fiche de ma structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer la fiche de ma structure")
    assert_every_field_labelled(page)
    page.get_by_label(label("Nom de la structure")).fill(ORGANISATION)
    page.get_by_label(label("Type de structure")).select_option(
        label="EPCI (établissement public de coopération intercommunale)"
    )
    page.get_by_label(label("SIRET")).fill("732 829 320 00075")
    page.get_by_label(label("Adresse")).fill("300 chemin de Bellevue")
    page.get_by_label(label("Code postal")).fill("38650")
    page.get_by_label(label("Commune")).fill("Monestier-de-Clermont")
    page.get_by_label(label("Représentant légal : nom")).fill("Jérôme Fauconnier")
    page.get_by_label(label("Représentant légal : qualité")).fill("Président")
    page.get_by_label(label("Représentant légal : adresse électronique")).fill(
        "president@cc-trieves.test"
    )
    territories = page.get_by_role("group", name=label("Territoires couverts (EPCI)"))
    territories.get_by_label("Communauté de communes du Trièves", exact=True).check()
    territories.get_by_label("Communauté de communes de la Matheysine", exact=True).check()
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("alert").first).to_contain_text("Le formulaire contient des erreurs")
    siret = page.get_by_label(label("SIRET"))
    expect(siret).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#div_id_siret")).to_contain_text(
        "Ce numéro SIRET n'est pas valide : il compte 14 chiffres, vérifiez-les."
    )
    # What was typed is kept, ticked territories included.
    expect(page.get_by_label(label("Commune"))).to_have_value("Monestier-de-Clermont")
    expect(
        territories.get_by_label("Communauté de communes du Trièves", exact=True)
    ).to_be_checked()
    siret.fill(SIRET)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text(
        "La structure est créée. Vous en êtes membre."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(ORGANISATION)
    expect(page.locator("main")).to_contain_text(
        "Communauté de communes de la Matheysine, Communauté de communes du Trièves"
    )

    # 3. The demonstration call, from the open calls of "Mes dossiers".
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes dossiers"
    ).click()
    open_calls = page.get_by_role("region", name="Appels ouverts")
    open_calls.get_by_role("link", name=re.compile(r"^Co-animation.*\(démonstration\)$")).click()
    expect(page.get_by_text(DEMO_REFERENCE).first).to_be_visible()
    page.get_by_role("link", name="Candidater : ouvrir mon dossier").click()
    expect(page.locator("main")).to_contain_text(f"Le dossier sera ouvert au nom de {ORGANISATION}")
    page.get_by_role("button", name="Créer le dossier").click()

    expect(page).to_have_url(re.compile(r"/candidatures/dossiers/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("(démonstration)")
    expect(page.locator("main")).to_contain_text(ORGANISATION)
    candidature = Candidature.objects.get(organisation__name=ORGANISATION)
    panel = page.get_by_role("region", name=re.compile("^Il manque"))
    expect(panel).to_have_class(re.compile(r"\bborder-warning\b"))
    missing_count = 1 + len(required_questions) + len(REQUIRED_DOCUMENTS)
    expect(panel.get_by_role("heading")).to_have_text(
        f"Il manque {missing_count} éléments avant de pouvoir déposer"
    )
    expect(panel.get_by_role("listitem")).to_have_count(missing_count)
    expect(panel.get_by_role("link", name=f"Pièce manquante : {ATTESTATION}")).to_have_attribute(
        "href", re.compile(r"/pieces/#piece-\d+$")
    )

    # 4. The form, reached from the panel: its link leads to the field to fill.
    panel.get_by_role("link", name="Choisissez au moins un lot.").click()
    expect(page.locator(":target")).to_contain_text("Lot(s) sollicité(s)")
    tabs = page.get_by_role("navigation", name="Parties du dossier")
    expect(page.get_by_role("heading", level=2)).to_have_text("Dossier de demande de financement")
    # Every required answer, in French formats.
    assert_every_field_labelled(page)
    lots = page.get_by_role("group", name=label("Lot(s) sollicité(s)"))
    lots.get_by_label("Nord Isère", exact=True).check()
    page.get_by_label(label("Résumé du projet de co-animation")).fill(
        "Co-animer le réseau des facilitateurs du Nord Isère avec le Département et la DDETS.\n"
        "Deux réunions par trimestre, un espace numérique partagé et un bilan annuel."
    )
    for number, action in enumerate(EXPECTED_ACTIONS, start=1):
        page.get_by_label(label(action)).fill(
            f"Action {number} : {action.lower()}. Calendrier trimestriel, en lien avec les "
            "facilitateurs des EPCI voisins et les structures d'insertion du territoire."
        )
    epcis = page.get_by_role("group", name=label("EPCI couverts par l'action"))
    epcis.get_by_label("Communauté de communes du Trièves", exact=True).check()
    epcis.get_by_label("Communauté de communes du Massif du Vercors", exact=True).check()
    page.get_by_label(label("Attention portée au territoire du Vercors")).fill(
        "Une permanence mensuelle à Villard-de-Lans et un appui aux acheteurs du plateau."
    )
    page.get_by_label(
        label("Expérience des clauses sociales dans la pratique de commande publique")
    ).fill("Facilitatrice depuis 2017 : 42 marchés clausés, 61 000 heures d'insertion.")
    page.get_by_label(
        label("La structure porte-t-elle déjà des missions de facilitateur ?")
    ).select_option(label="Oui")
    page.get_by_label(label("Professionnels chargés de la mise en œuvre et du suivi")).fill(
        "Camille Durand, facilitatrice clauses sociales ; Paul Martin, chargé de mission emploi."
    )
    page.get_by_label(label("Nombre d'ETP consacrés à l'action")).fill("0,5")
    page.get_by_label(label("Partenariats prévus, dont avec le secteur du handicap")).fill(
        "Cap emploi, les ESAT et les entreprises adaptées du territoire."
    )
    amount = page.get_by_label(label("Montant sollicité auprès du Département (en euros)"))
    amount.fill("24 500,00")
    start = timezone.localdate() + dt.timedelta(days=60)
    page.get_by_label(label("Date de démarrage envisagée")).fill(start.isoformat())
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    expect(page.locator(".messages")).to_contain_text("Vos réponses sont enregistrées.")
    panel = page.get_by_role("region", name=re.compile("^Il manque"))
    expect(panel.get_by_role("listitem")).to_have_count(len(REQUIRED_DOCUMENTS))

    tabs.get_by_role("link", name="Formulaire").click()
    expect(lots.get_by_label("Nord Isère", exact=True)).to_be_checked()
    expect(lots.get_by_label("Sud Isère", exact=True)).not_to_be_checked()
    expect(amount).to_have_value(re.compile(r"^24[\s\u202f]500,00$"))
    expect(page.get_by_label(label("Nombre d'ETP consacrés à l'action"))).to_have_value("0,5")
    expect(page.get_by_label(label("Date de démarrage envisagée"))).to_have_value(start.isoformat())
    expect(
        page.get_by_label(label("La structure porte-t-elle déjà des missions de facilitateur ?"))
    ).to_have_value("yes")
    expect(
        epcis.get_by_label("Communauté de communes du Massif du Vercors", exact=True)
    ).to_be_checked()
    expect(page.get_by_label(label(EXPECTED_ACTIONS[-1]))).to_have_value(
        re.compile(r"^Action 8 : la contribution")
    )

    # 5. Real files, one piece at a time.
    files = {
        "Budget de l'action.xlsx": (
            BUDGETS,
            modeles.budget_xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "Budget de la structure.xlsx": (
            BUDGETS,
            structure_budget_xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "Attestation d'engagement signée.pdf": (
            ATTESTATION,
            modeles.sample_pdf(
                "Attestation d'engagement",
                [
                    f"Je soussigné Jérôme Fauconnier, Président de la {ORGANISATION},",
                    "m'engage à mettre en oeuvre l'action décrite dans le dossier.",
                    "Fait à Monestier-de-Clermont. Signé.",
                ],
            ),
            "application/pdf",
        ),
        "CV Camille Durand.pdf": (
            CVS,
            modeles.sample_pdf(
                "Curriculum vitae - Camille Durand",
                ["Facilitatrice clauses sociales depuis 2017.", "Animation de réseau."],
            ),
            "application/pdf",
        ),
        "CV Paul Martin.pdf": (
            CVS,
            modeles.sample_pdf(
                "Curriculum vitae - Paul Martin",
                ["Chargé de mission emploi.", "Commande publique responsable."],
            ),
            "application/pdf",
        ),
    }
    tabs.get_by_role("link", name="Pièces jointes").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_every_field_labelled(page)
    sent_to = set()
    for name, (piece, content, mime) in files.items():
        upload(page, piece, name, content, mime, adding=piece in sent_to)
        sent_to.add(piece)
        expect(page.locator(".messages")).to_contain_text(f"« {name} » est enregistré.")
        expect(piece_section(page, piece).get_by_role("link", name=name)).to_be_visible()

    # A program renamed ".pdf", then a spreadsheet where only a PDF is accepted: refused.
    cv_section = piece_section(page, CVS)
    expect(cv_section.get_by_role("listitem")).to_have_count(2)
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 4000
    upload(page, CVS, "CV Léa Petit.pdf", program, "application/pdf", adding=True)
    expect(page.locator(".messages .alert-danger")).to_contain_text(
        "Le contenu du fichier « CV Léa Petit.pdf » ne correspond pas à son extension"
    )
    expect(cv_section.get_by_role("listitem")).to_have_count(2)

    # The attestation is a single-file piece: once given, it offers "Remplacer".
    attestation = piece_section(page, ATTESTATION)
    attestation.get_by_label(f"Remplacer le fichier : {ATTESTATION}", exact=True).set_input_files(
        {
            "name": "Attestation.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": modeles.budget_xlsx(),
        }
    )
    attestation.get_by_role("button", name=f"Remplacer : {ATTESTATION}", exact=True).click()
    expect(page.locator(".messages .alert-danger")).to_contain_text(
        "Le format du fichier « Attestation.xlsx » n'est pas accepté ici. Formats acceptés : PDF."
    )
    expect(attestation.get_by_role("listitem")).to_have_count(1)
    expect(
        attestation.get_by_role("link", name="Attestation d'engagement signée.pdf")
    ).to_be_visible()
    assert candidature.documents.count() == len(files)

    # Remove one CV (the browser asks first), then send it again.
    questions = []

    def confirm(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    cv_section.get_by_role("button", name="Supprimer CV Paul Martin.pdf").click()
    expect(page.locator(".messages")).to_contain_text("« CV Paul Martin.pdf » est supprimé.")
    expect(cv_section.get_by_role("listitem")).to_have_count(1)
    assert questions == ["Supprimer ce fichier ?"]
    name = "CV Paul Martin.pdf"
    upload(page, CVS, name, files[name][1], files[name][2], adding=True)
    expect(page.locator(".messages")).to_contain_text(f"« {name} » est enregistré.")
    expect(cv_section.get_by_role("listitem")).to_have_count(2)

    # 6. Complete; the preview shows the dossier as the Service IVE will read it.
    tabs.get_by_role("link", name="Synthèse").click()
    panel = page.get_by_role("region", name=re.compile("^Dossier complet"))
    expect(panel).to_have_class(re.compile(r"\bborder-success\b"))
    tabs.get_by_role("link", name="Aperçu").click()
    expect(page.get_by_text("Voici le dossier tel que le Service IVE le lira.")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text(f"SIRET {SIRET}")
    expect(main).to_contain_text("Jérôme Fauconnier, Président")
    expect(main).to_contain_text(re.compile(r"24[\s\u202f]500,00 €"))
    table = page.get_by_role("table")
    for name, (_piece, content, _mime) in files.items():
        row = table.get_by_role("row").filter(has=page.get_by_role("link", name=name))
        expect(row).to_contain_text(hashlib.sha256(content).hexdigest())

    # 7. Submit, with the certification box.
    tabs.get_by_role("link", name="Déposer").click()
    submit = page.get_by_role("button", name="Déposer le dossier")
    expect(submit).to_be_enabled()
    page.get_by_label(re.compile(r"^\s*Je certifie l'exactitude")).check()
    submit.click()

    # The receipt PDF is rendered for the e-mail within this request (Celery runs eagerly).
    success = page.locator(".messages .alert-success")
    expect(success).to_contain_text("Votre dossier est déposé le", timeout=20_000)
    receipt = Receipt.objects.get(candidature=candidature)
    expect(success).to_contain_text(submitted_message(receipt.number))
    local = timezone.localtime(receipt.submitted_at)
    expect(success).to_contain_text(f"à {local:%Hh%M} et {local:%S} s")
    assert receipt.number == f"{DEMO_REFERENCE}-0001"
    # The answer to the submission is the receipt itself, then the dossier.
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier déposé")
    expect(
        page.get_by_role("heading", level=2, name=f"Accusé de réception n° {receipt.number}")
    ).to_be_visible()
    page.get_by_role("link", name="Voir le dossier").click()
    expect(page.locator("h1 + p .badge")).to_have_text("Déposé")
    candidature.refresh_from_db()
    assert candidature.status == CandidatureStatus.SUBMITTED
    expect(tabs.get_by_role("link", name="Déposer")).to_have_count(0)
    expect(
        page.get_by_role("link", name=f"Télécharger l'accusé (PDF) {receipt.number}")
    ).to_be_visible()

    tabs.get_by_role("link", name="Formulaire").click()
    expect(page.get_by_text("Ce dossier ne peut plus être modifié")).to_be_visible()
    expect(amount).to_be_disabled()
    expect(lots.get_by_label("Nord Isère", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Enregistrer le brouillon")).to_be_disabled()
    tabs.get_by_role("link", name="Pièces jointes").click()
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(
        page.get_by_role("button", name=re.compile("^(Envoyer|Remplacer|Supprimer)"))
    ).to_have_count(0)

    # 8. The receipt: the number, the organisation, the lot, every file's hash and size.
    tabs.get_by_role("link", name="Synthèse").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger l'accusé de réception").click()
    download = download_info.value
    assert download.suggested_filename == f"Accuse-de-reception-{receipt.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"%PDF")
    text = pdf_text(content, order="raw")
    assert receipt.number in text
    assert f"{ORGANISATION} (EPCI" in text
    assert f"SIRET {SIRET}" in text
    assert "Lot(s) sollicité(s) Nord Isère Déposé le" in text
    # Each file: its name, its size in bytes, then its hash, together (on the same page).
    for name, (piece, file_content, _mime) in files.items():
        sha256 = hashlib.sha256(file_content).hexdigest()
        assert f"{piece} {name} {len(file_content)} SHA-256 : {sha256}" in text, (name, text)

    # The dossier de demande, made from the answers: every section's answers, in order.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Dossier de demande (PDF) {receipt.number}").click()
    request_download = download_info.value
    assert request_download.suggested_filename == f"Dossier-de-demande-{receipt.number}.pdf"
    request_path = tmp_path / request_download.suggested_filename
    request_download.save_as(request_path)
    request_text = " ".join(pdf_text(request_path.read_bytes(), order="raw").split())
    assert "Dossier de demande de financement" in request_text
    position = 0
    for answer in (
        "Résumé du projet de co-animation",
        "Co-animer le réseau des facilitateurs du Nord Isère",
        "Communauté de communes du Massif du Vercors",
        "Une permanence mensuelle à Villard-de-Lans",
        "Cap emploi, les ESAT",
        "Montant sollicité auprès du Département (en euros)",
    ):
        position = request_text.index(answer, position)
    assert re.search(r"24[\s\u202f]500,00 €", request_text)

    # The e-mail with the same receipt and the dossier de demande, to the member.
    receipts_sent = [m for m in mail.outbox if m.attachments]
    assert [m.to for m in receipts_sent] == [[EMAIL]]
    (attachment_name, attachment, mimetype), (request_name, _pdf, _type) = receipts_sent[
        0
    ].attachments
    assert attachment_name == download.suggested_filename
    assert request_name == request_download.suggested_filename
    assert mimetype == "application/pdf"
    assert attachment == content
    assert receipt.number in receipts_sent[0].body
    receipt_email = OutgoingEmail.objects.get(key=f"receipt-{receipt.pk}")
    assert receipt_email.status == EmailStatus.SENT

    # "Mes dossiers" says it too.
    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role(
        "link", name="Mes dossiers"
    ).click()
    dossiers = page.get_by_role("region", name="Dossiers de candidature")
    expect(dossiers.locator(".badge")).to_have_text("Déposé")
    expect(dossiers).to_contain_text(f"accusé n° {receipt.number}")
