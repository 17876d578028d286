"""The organisation follows its agreement on the dossier's timeline: sent for signature,
signed, each instalment ordered and paid, each report accepted or sent back with its
reason. Staff-only steps (a draft, a request recorded) stay out."""

import html
import re

from django.urls import reverse

from conventions import services
from tests.conventions.conftest import accept, pay, pdf_upload


def timeline(client, dossier) -> str:
    page = client.get(reverse("candidatures:dossier", args=[dossier.pk])).content.decode()
    section = page[page.index('id="timeline-title"') :]
    section = re.sub(r"<[^>]+>", " ", html.unescape(section))
    return re.sub(r"\s+", " ", section)


def test_the_agreements_steps_reach_the_dossiers_timeline(
    signed, instructeur, candidate, client_for
):
    advance = signed.payments.order_by("due_on", "position").first()
    pay(advance, instructeur)
    report = signed.reports.get(kind="intermediate")
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan.pdf"))
    services.send_back_report(report, by=instructeur, reason="Il manque le bilan des actions.")

    text = timeline(client_for(candidate), signed.candidature)

    number = signed.number
    assert f"Convention {number} envoyée pour signature" in text
    assert f"Convention {number} signée" in text
    assert f"Versement mandaté : {advance.label}" in text
    assert f"Versement effectué : {advance.label}" in text
    assert "Bilan intermédiaire renvoyé à la structure" in text
    assert "Il manque le bilan des actions." in text
    assert "Enregistrer la demande" not in text and "demandé" not in text.lower()
    accept(signed, "intermediate", candidate, instructeur)
    assert "Bilan intermédiaire validé" in timeline(client_for(candidate), signed.candidature)


def test_a_draft_agreement_shows_nothing(convention, candidate, client_for):
    text = timeline(client_for(candidate), convention.candidature)
    assert "Convention" not in text
