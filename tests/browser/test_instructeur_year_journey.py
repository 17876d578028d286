"""An instructeur's year, in a real browser: next year's call made from the 2024 one by
« Dupliquer » (dates shifted by twelve months), published; then, on a call in
instruction, a dossier found by typing part of its SIRET, the list sorted by score and
exported as it is shown (the XLSX read back with openpyxl holds the same rows), and a
dossier's messages and letters in tabs near the top of its page."""

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from playwright.sync_api import expect

from aap.models import Call
from aap.states import CallStatus
from candidatures.models import Message
from demo import seed
from demo.loader import load_demo
from tests.browser.helpers import label, log_in

pytestmark = pytest.mark.browser

# Spring 2025: the 2024 call is closed, its copy for 2025 can be published.
SPRING_2025 = dt.datetime(2025, 3, 3, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Templates, receipts and letters are stored in this test's own private folder."""


def test_an_instructeur_copies_last_years_call_then_finds_sorts_and_exports_dossiers(
    page, tmp_path
):
    with time_machine.travel(SPRING_2025, tick=True):
        load_demo(with_accounts=True)
        source = Call.objects.get(reference=seed.REFERENCE)
        log_in(page, "instructeur@demo.example", seed.DEMO_PASSWORD)

        # 1. « Dupliquer » the 2024 call: the proposals name 2025, the dates move 12 months.
        page.goto(f"/gestion/appels/{source.pk}/")
        page.get_by_role("link", name="Dupliquer").click()
        expect(page.get_by_label(label("Référence"))).to_have_value("AAP-2025-FCS")
        page.get_by_label(label("Intitulé du nouvel appel à projets")).fill(
            "Co-animation du réseau des facilitateurs clauses sociales 2025"
        )
        page.get_by_label("Décaler toutes les dates du même nombre de mois").check()
        page.get_by_label(label("Décalage (mois)")).fill("12")
        page.get_by_role("button", name="Créer le brouillon").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            "Co-animation du réseau des facilitateurs clauses sociales 2025"
        )
        expect(page.get_by_text("Copie de AAP-2024-FCS")).to_be_visible()
        checklist = page.locator(".alert").filter(has_text="Liste de vérification de la copie")
        expect(checklist).to_contain_text("date limite le 17 septembre 2025 à 17h00")
        expect(checklist).to_contain_text("mentionne encore 2024")
        copy = Call.objects.get(reference="AAP-2025-FCS")
        assert copy.status == CallStatus.DRAFT
        assert copy.form_questions.count() == source.form_questions.count()
        assert copy.required_documents.count() == source.required_documents.count()

        # 2. Published after review: the dates written in its texts are pointed out, the
        # publication is not refused for them.
        page.get_by_role("link", name="Publier", exact=True).click()
        expect(page.get_by_text("Dates à vérifier dans les textes")).to_be_visible()
        page.get_by_role("button", name="Confirmer : Publier").click()
        expect(page.locator(".messages")).to_contain_text("Nouveau statut : Publié")
        copy.refresh_from_db()
        assert copy.status == CallStatus.PUBLISHED

        # 3. On the call in instruction, a dossier found by part of its SIRET.
        review = Call.objects.get(reference=seed.REVIEW_REFERENCE)
        dossiers = list(review.candidatures.select_related("organisation").order_by("pk"))
        wanted = dossiers[1].organisation
        page.goto(f"/gestion/appels/{review.pk}/dossiers/")
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(len(dossiers))
        siret = wanted.siret
        page.get_by_label("Rechercher").fill(f"{siret[3:6]} {siret[6:9]}")
        page.get_by_role("button", name="Filtrer").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(wanted.name)

        # 4. The whole list sorted by score, best first, then exported as shown.
        page.get_by_role("link", name="Tout afficher").click()
        page.get_by_role("link", name="Note /100", exact=True).click()
        header = page.get_by_role("columnheader", name="Note /100", exact=True)
        expect(header).to_have_attribute("aria-sort", "ascending")
        page.get_by_role("link", name="Note /100", exact=True).click()
        expect(header).to_have_attribute("aria-sort", "descending")
        shown = [name.strip() for name in rows.locator("th").all_inner_texts()]
        scores = [
            float(text.replace(",", ".")) if text.strip() != "—" else -1
            for text in rows.locator("td:nth-last-child(1)").all_inner_texts()
        ]
        assert scores == sorted(scores, reverse=True) and scores[0] > 0
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Exporter la liste (XLSX)").click()
        download = download_info.value
        assert download.suggested_filename == f"dossiers-{review.reference.lower()}.xlsx"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        sheet = load_workbook(io.BytesIO(path.read_bytes())).active
        exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert exported == shown

        # 5. A dossier's messages in a tab near the top: sent, then shown again there.
        page.get_by_role("link", name=wanted.name).click()
        tabs = page.get_by_role("tablist")
        expect(tabs.get_by_role("tab")).to_have_count(3)
        tabs.get_by_role("tab", name=re.compile("^Messages")).click()
        page.get_by_label(label("Votre message")).fill("Pouvez-vous préciser le budget 2025 ?")
        page.get_by_role("button", name="Envoyer le message").click()
        expect(page.locator(".messages")).to_contain_text("Le message est envoyé au candidat.")
        expect(tabs.get_by_role("tab", name=re.compile("^Messages"))).to_have_attribute(
            "aria-selected", "true"
        )
        expect(page.get_by_text("Pouvez-vous préciser le budget 2025 ?")).to_be_visible()
        tabs.get_by_role("tab", name=re.compile("^Courriers")).click()
        expect(page.get_by_role("heading", name="Courriers")).to_be_visible()
    assert Message.objects.filter(candidature__organisation=wanted, from_staff=True).count() == 1
