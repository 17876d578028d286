"""Journeys through the platform in a real browser: a visitor becomes a candidate, an
instructeur publishes a call, a candidate is kept out of the back-office, and the pages
can be used with a keyboard."""

import re
import zipfile

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from aap.models import Call, CallStatusChange
from aap.states import CallStatus
from demo.loader import load_demo
from demo.seed import CRITERIA, DEMO_REFERENCE
from tests.browser.helpers import assert_every_field_labelled, label, log_in
from tests.factories import ProgrammeFactory, UserFactory, ready_call

pytestmark = pytest.mark.browser


def test_visitor_reads_a_call_downloads_a_template_and_becomes_a_candidate(page, tmp_path):
    load_demo(with_accounts=True)
    # The demo's own e-mails (receipts, assignments of its dossiers) are not this journey's.
    mail.outbox.clear()

    page.goto("/")
    demo_link = page.get_by_role("link", name=re.compile(r"\(démonstration\)"))
    expect(demo_link).to_have_count(1)
    demo_link.click()
    expect(page.locator("h1")).to_contain_text("(démonstration)")
    expect(page.get_by_text(DEMO_REFERENCE).first).to_be_visible()

    # The selection criteria and their weights, as the Département fixed them.
    criteria = page.locator("#criteres")
    for criterion in CRITERIA:
        title = re.compile("^" + re.escape(criterion["title"]))
        expect(criteria.get_by_role("rowheader", name=title)).to_have_count(1)
    expect(criteria.locator(".weight").first).to_have_text("33,34 %")

    # The deadline, on a Paris clock, and the time left.
    facts = page.locator(".call-facts")
    expect(facts).to_contain_text("à 17h00")
    expect(facts.locator(".countdown")).to_contain_text(re.compile(r"Il reste \d+ jours"))

    # A template downloads as a real Word document. (The demonstration copy makes the
    # dossier de demande from the answers: it offers no DOCX of it.)
    expect(
        page.get_by_role(
            "link", name=re.compile(r"Télécharger le modèle : Dossier de demande de financement")
        )
    ).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name=re.compile(r"Télécharger le modèle : Attestation d'engagement")
        ).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert zipfile.is_zipfile(saved)
    with zipfile.ZipFile(saved) as docx:
        assert "word/document.xml" in docx.namelist()

    # Sign up with the labels and the keyboard.
    page.get_by_role("link", name="Créer un compte", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte candidat")
    page.get_by_label(label("Prénom")).fill("Camille")
    page.get_by_label(label("Nom")).fill("Durand")
    page.get_by_label(label("Adresse électronique professionnelle")).fill(
        "camille.durand@epci-exemple.test"
    )
    page.get_by_label(label("Fonction")).fill("Chargée de mission clauses sociales")
    page.get_by_label(label("Téléphone")).fill("04 76 00 00 00")
    page.get_by_label(label("Mot de passe")).fill("Un-mot-de-passe-solide-2024")
    page.get_by_label(label("Confirmation du mot de passe")).fill("Un-mot-de-passe-solide-2024")
    terms = page.get_by_label(
        re.compile(r"^\s*J'ai pris connaissance de la façon dont mes données")
    )
    terms.focus()
    page.keyboard.press("Space")
    expect(terms).to_be_checked()
    page.get_by_label(label("Confirmation du mot de passe")).press("Enter")

    expect(page).to_have_title(re.compile(r"^Vérifiez votre adresse"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre adresse électronique")
    expect(page.locator("main")).to_contain_text("camille.durand@epci-exemple.test")

    # The link of the e-mail that was sent.
    assert [message.to for message in mail.outbox] == [["camille.durand@epci-exemple.test"]]
    link = re.search(r"https?://\S+/compte/verifier/\S+/", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body
    page.goto(link.group(0))
    expect(page.locator(".messages")).to_contain_text(
        "Votre adresse électronique est vérifiée. Vous pouvez vous connecter."
    )

    page.get_by_label(label("Adresse électronique")).fill("camille.durand@epci-exemple.test")
    page.get_by_label(label("Mot de passe")).fill("Un-mot-de-passe-solide-2024")
    page.get_by_role("button", name="Se connecter").click()

    # A candidate lands on "Mes dossiers", and finds the account page from the menu.
    expect(page).to_have_url(re.compile(r"/candidatures/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_label(label("Prénom"))).to_have_value("Camille")
    expect(page.get_by_label(label("Nom"))).to_have_value("Durand")
    expect(page.locator("main")).to_contain_text("camille.durand@epci-exemple.test")


def test_instructeur_creates_structures_and_publishes_a_call(page):
    programme = ProgrammeFactory()
    UserFactory(
        email="ines.martin@isere.test",
        first_name="Inès",
        last_name="Martin",
        roles=["instructeur"],
    )
    log_in(page, "ines.martin@isere.test")

    page.get_by_role("link", name="Gestion des appels").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gestion des appels à projets")
    page.get_by_role("link", name="Créer un appel à projets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un appel à projets")
    assert_every_field_labelled(page)

    page.get_by_label(label("Programme")).select_option(label=str(programme))
    page.get_by_label(label("Intitulé")).fill("Facilitateurs de la clause sociale 2030")
    page.get_by_label(label("Référence")).fill("AAP-2030-FCS")
    page.get_by_label(label("Année")).fill("2030")
    page.get_by_label(label("Résumé")).fill("Co-animer le réseau des facilitateurs en Isère.")
    eligible = page.locator("#div_id_eligible_kinds")
    eligible.get_by_label(re.compile(r"^\s*EPCI")).check()
    eligible.get_by_label("Association", exact=True).check()
    page.get_by_label(label("Lancement de l'appel à projets")).fill(
        timezone.localdate().isoformat()
    )
    page.get_by_label(label("Date limite de réception des dossiers")).fill("2030-09-17")
    page.get_by_label(label("Heure limite (heure de Paris)")).fill("17:00")
    page.get_by_label(label("Adresse électronique de contact")).fill("dso.ive@isere.fr")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.locator(".messages")).to_contain_text("créé en brouillon")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Brouillon")
    call = Call.objects.get(reference="AAP-2030-FCS")
    assert timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M") == "2030-09-17 17:00"

    # Lots: one empty row at a time, a new one after each save.
    tabs = page.get_by_role("navigation", name="Parties de l’appel à projets")
    tabs.get_by_role("link", name="Lots", exact=True).click()
    assert_every_field_labelled(page)
    for position, (name, fte) in enumerate((("Nord Isère", "0.5"), ("Sud Isère", "0.75"))):
        row = page.locator(".formset-row").last
        expect(row).to_contain_text("Nouvel élément")
        row.get_by_label(label("Ordre")).fill(str(position + 1))
        row.get_by_label(label("Nom")).fill(name)
        row.get_by_label(label("ETP financés")).fill(fte)
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".messages")).to_contain_text("Les modifications sont enregistrées.")
    expect(page.locator(".formset-row")).to_have_count(3)
    assert list(call.lots.values_list("name", flat=True)) == ["Nord Isère", "Sud Isère"]

    # Criteria: the weights must add up to 100, else the whole list is refused.
    tabs.get_by_role("link", name="Critères", exact=True).click()
    assert_every_field_labelled(page)
    rows = page.locator(".formset-row")
    criteria = [
        (
            "Expérience des clauses sociales",
            "30",
            "Sensibilité à l'insertion\nPolitique volontariste",
        ),
        (
            "Qualité du projet de co-animation",
            "30",
            "Animation de réseau\nCouverture du territoire",
        ),
        ("Ressources humaines et organisation", "30", "Moyens dédiés\nPartenariats"),
    ]
    expect(rows).to_have_count(len(criteria))
    for index, (title, weight, subcriteria) in enumerate(criteria):
        row = rows.nth(index)
        row.get_by_label(label("Ordre")).fill(str(index + 1))
        row.get_by_label(label("Intitulé")).fill(title)
        row.get_by_label(label("Pondération (%)")).fill(weight)
        row.get_by_label(label("Sous-critères")).fill(subcriteria)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert").filter(has_text="pondérations")).to_contain_text(
        "La somme des pondérations doit être égale à 100"
    )
    assert not call.criteria.exists()
    rows.nth(2).get_by_label(label("Pondération (%)")).fill("40")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("Les modifications sont enregistrées.")
    assert sorted(call.criteria.values_list("weight", flat=True)) == [30, 30, 40]
    assert call.criteria.get(position=2).subcriteria.count() == 2

    # One required document.
    tabs.get_by_role("link", name="Pièces", exact=True).click()
    assert_every_field_labelled(page)
    row = page.locator(".formset-row").last
    row.get_by_label(label("Ordre")).fill("1")
    row.get_by_label(label("Pièce à fournir")).fill("Dossier de demande de financement")
    row.get_by_label("PDF", exact=True).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("Les modifications sont enregistrées.")
    assert call.required_documents.get().allowed_formats == ["pdf"]

    # Publish, and confirm.
    tabs.get_by_role("link", name="Synthèse", exact=True).click()
    expect(page.get_by_text("Avant de publier")).to_have_count(0)
    page.get_by_role("link", name="Publier", exact=True).click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Publier")
    page.get_by_label(label("Note pour l'historique")).fill("Validé en réunion de service.")
    page.get_by_role("button", name="Confirmer : Publier").click()

    expect(page.locator(".messages")).to_contain_text("Nouveau statut : Publié.")
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Publié")
    history = page.locator(".history-list")
    expect(history).to_contain_text("Publier : Brouillon → Publié")
    expect(history).to_contain_text("Inès Martin")
    expect(history).to_contain_text("Validé en réunion de service.")
    call.refresh_from_db()
    assert call.status == CallStatus.PUBLISHED
    assert CallStatusChange.objects.get(call=call).by.email == "ines.martin@isere.test"

    page.goto("/appels/")
    open_calls = page.locator("#ouverts")
    expect(open_calls).to_contain_text("Facilitateurs de la clause sociale 2030")
    expect(open_calls).to_contain_text("2 lots")


def test_candidate_cannot_reach_the_back_office(page):
    UserFactory(email="camille@epci-exemple.test", roles=["candidat"])
    log_in(page, "camille@epci-exemple.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    navigation = page.get_by_role("navigation", name="Menu principal")
    expect(navigation.get_by_role("link", name="Mon compte")).to_be_visible()
    expect(navigation.get_by_role("link", name="Gestion des appels")).to_have_count(0)

    response = page.goto("/gestion/appels/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    expect(page.locator("main")).to_contain_text("Votre compte ne permet pas")
    expect(page.get_by_role("link", name="Gestion des appels")).to_have_count(0)


def test_pages_work_with_the_keyboard_and_label_every_field(page):
    call = ready_call()

    page.goto(call.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_count(1)
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#contenu$"))
    expect(page.locator("main#contenu")).to_be_focused()

    page.goto("/compte/inscription/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_count(1)
    fields = page.evaluate(
        """() => Array.from(document.querySelectorAll("input, select, textarea"))
            .filter((el) => el.type !== "hidden" && el.name !== "csrfmiddlewaretoken")
            .map((el) => el.name)"""
    )
    assert {"first_name", "email", "password1", "accept_terms"} <= set(fields), fields
    assert_every_field_labelled(page)
