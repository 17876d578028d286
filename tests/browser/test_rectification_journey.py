"""A notified decision rectified in a real browser: the instructeur finds the ordinary
decision form gone, rectifies the decision with its reason, and sees the new letter
leave; the public list of selected organisations follows, dated; the candidate then
reads the rectification on their dossier page and downloads the new letter, which
carries the reason and the voies et délais de recours."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from evaluation.letters import notify_decisions
from evaluation.models import Decision, DecisionRectification, NotificationLetter
from evaluation.states import LetterKind, LetterStatus
from tests.browser.helpers import FRENCH_DATE, assert_every_field_labelled, label, log_in, log_out
from tests.evaluation import conftest as evaluation
from tests.evaluation import notified as world
from tests.pdf import pdf_text

pytestmark = pytest.mark.browser

# The fixtures of the evaluation tests, bound here (see test_evaluation_journey.py).
graded_call = evaluation.graded_call
evaluators = evaluation.evaluators

REASON = "Recours gracieux accueilli : le budget du lot ne permettait pas ce montant."


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


def test_an_instructeur_rectifies_a_notified_decision_and_the_candidate_reads_the_new_letter(
    page, tmp_path, graded_call, evaluators, instructeur
):
    call = graded_call
    decided = world.decide(call, instructeur=instructeur, evaluator=evaluators[0])
    notify_decisions(call, by=instructeur)  # the letters leave after commit (eager task)
    alpha, lot = decided["alpha"], decided["lot"]
    assert world.decision_letter(alpha).status == LetterStatus.SENT
    candidate = alpha.organisation.memberships.get().user
    mail.outbox.clear()

    # 1. The instructeur opens the dossier's evaluations: the decision is notified.
    log_in(page, instructeur.email)
    page.goto(reverse("evaluation:dossier", args=[alpha.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Évaluations : {world.ALPHA}")
    decision = page.get_by_role("region", name="Décision du comité")
    expect(decision).to_contain_text(
        re.compile(rf"La décision sur ce dossier a été notifiée le {FRENCH_DATE}")
    )
    expect(decision).to_contain_text(re.compile(r"Retenu – 24\s500,00 €, 0,5 ETP"))
    expect(
        decision.get_by_role("button", name=re.compile("Enregistrer la décision"))
    ).to_have_count(0)

    # The reason is required: the browser does not send the form without it.
    decision.locator("summary").filter(has_text="Rectifier la décision").click()
    decision.get_by_label(label("Décision")).select_option(label="Non retenu")
    assert_every_field_labelled(page)
    reason = decision.get_by_label(label("Motif de la rectification (communiqué au candidat)"))
    expect(reason).to_have_attribute("required", "")
    page.once("dialog", lambda dialog: dialog.accept())
    decision.get_by_role("button", name=f"Rectifier la décision : {lot.name}").click()
    expect(reason).to_be_focused()
    assert not DecisionRectification.objects.exists()

    reason.fill(REASON)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    decision.get_by_role("button", name=f"Rectifier la décision : {lot.name}").click()
    expect(page.locator(".messages")).to_contain_text(
        f"La décision est rectifiée pour le lot {lot.name} : la lettre de rectification part "
        "au candidat."
    )
    assert asked == [
        "Rectifier cette décision notifiée et envoyer une nouvelle lettre au candidat ?"
    ]
    decision = page.get_by_role("region", name="Décision du comité")
    expect(decision).to_contain_text(
        re.compile(
            rf"Décision rectifiée le {FRENCH_DATE} à \d{{2}}h\d{{2}} par .+ : Retenu → Non retenu\."
        )
    )
    sent_letters = page.get_by_role("region", name="Lettres au candidat")
    expect(sent_letters).to_contain_text(
        re.compile(
            rf"Rectification de la décision \(lot {lot.name}\) – Envoyée, envoyée le {FRENCH_DATE}"
        )
    )
    history = page.get_by_role("region", name="Historique")
    expect(history.get_by_role("row").filter(has_text="Décision rectifiée")).to_contain_text(REASON)
    rectified = Decision.objects.get(candidature=alpha)
    assert (rectified.outcome, rectified.amount_granted) == ("not_selected", None)
    log_out(page)

    # 2. The public list follows, dated.
    page.goto(call.get_absolute_url())
    selected = page.get_by_role("region", name="Structures retenues")
    expect(selected).not_to_contain_text(world.ALPHA)
    expect(selected).to_contain_text(
        re.compile(rf"Liste mise à jour le {FRENCH_DATE}, après rectification d'une décision\.")
    )

    # 3. The candidate reads it on the dossier page and downloads the new letter.
    log_in(page, candidate.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    page.get_by_role("link", name=f"Ouvrir {call.title}").click()
    notice = page.get_by_role("status").filter(has_text="vous a été notifiée")
    expect(notice).to_contain_text(re.compile(rf"Lettre de notification du {FRENCH_DATE}"))
    expect(notice).to_contain_text(re.compile(rf"Décision rectifiée le {FRENCH_DATE}"))
    with page.expect_download() as download_info:
        notice.get_by_role("link", name="Télécharger la lettre de rectification (PDF)").click()
    download = download_info.value
    letter = NotificationLetter.objects.get(candidature=alpha, kind=LetterKind.RECTIFICATION)
    assert download.suggested_filename == letter.filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = saved.read_bytes()
    text = pdf_text(content)
    for expected in (
        world.ALPHA,
        "rectification de la décision",
        "Non retenu",
        f"Motif de la rectification : {REASON}",
        "Voies et délais de recours",
        "tribunal administratif de Grenoble",
        "deux mois à compter de sa notification",
    ):
        assert expected in text, expected
    # The same letter went by e-mail to the organisation's member.
    sent = [
        attachment
        for message in mail.outbox
        if message.to == [candidate.email]
        for attachment in message.attachments
        if attachment[0] == download.suggested_filename
    ]
    assert [(name, data) for name, data, _mime in sent] == [(download.suggested_filename, content)]
