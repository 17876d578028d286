"""The evaluation of a call in a real browser, as each person does it through the pages:
the instructeur rules on admissibility and assigns the evaluators, two evaluators declare
no conflict of interest and score blind, the instructeur reads the ranking, the DDETS
gives its opinion, the committee decides, the decisions are notified, and the candidate
downloads its letter."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from aap.models import Call
from aap.states import CallStatus
from evaluation.models import Admissibility, Decision, Evaluation
from evaluation.states import AdmissibilityOutcome, EvaluationStatus
from tests.browser.helpers import assert_every_field_labelled, label, log_in, log_out, menu
from tests.evaluation import conftest as evaluation
from tests.evaluation.conftest import close, submitted_dossier
from tests.evaluation.meetings import quorate_meeting
from tests.pdf import pdf_text

pytestmark = pytest.mark.browser

# The fixtures of the evaluation tests (bound here, not imported: a test argument named
# like an import trips ruff's F811). The grid is hand-computable: A weighs 40 (A1, A2),
# B 35 (B1), C 25 (C1, C2), each sub-criterion scored from 0 to 4.
graded_call = evaluation.graded_call
evaluators = evaluation.evaluators

ALPHA = "Communauté de communes Alpha"
BETA = "GIP Bêta"
INADMISSIBLE_REASON = "Attestation d'engagement non signée."

# A criterion's score is the mean of its sub-criteria, over the scale's maximum (4), times
# its weight; the total is the sum of the criteria.
# Evaluator 1: A (4+2)/2/4×40 = 30, B 3/4×35 = 26.25, C (4+4)/2/4×25 = 25, total 81.25.
# Evaluator 2: A (2+2)/2/4×40 = 20, B 2/4×35 = 17.50, C (1+3)/2/4×25 = 12.50, total 50.
SCORES_1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}
SCORES_2 = {"A1": 2, "A2": 2, "B1": 2, "C1": 1, "C2": 3}
LEVELS = ["Insuffisant", "Passable", "Moyen", "Bon", "Très bon"]
# The dossier: A (30+20)/2 = 25, B (26.25+17.5)/2 = 21.875, C (25+12.5)/2 = 18.75; the
# mean (81.25+50)/2 = 65.625 (shown rounded half up, 65,63), 13.125 out of 20, and the
# spread between the evaluators 81.25 − 50 = 31.25 (above the grid's 15: to harmonise).
CRITERIA_MEAN = ["25,00", "21,88", "18,75"]
MEAN = "65,63"
ON_20 = "13,13"
SPREAD = "31,25"


def click_and_confirm(page, button, *, question, then):
    """Click a ``data-confirm`` button, accept the browser's question, and wait for the
    message ``then`` of the next page; the question is checked once the page is there."""
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    button.click()
    expect(page.locator(".messages")).to_contain_text(then, timeout=20_000)
    assert asked == [question]


def score_dossier(page, organisation, points):
    """From "Mes évaluations": declare no conflict, then score and save a draft."""
    menu(page, "Mes évaluations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes évaluations")
    row = page.get_by_role("row").filter(has_text=organisation)
    expect(row).to_contain_text("Déclaration d'intérêts à faire")
    row.get_by_role("link", name=f"Déclarer : {organisation}").click()

    # Nobody reads the dossier before declaring: the declaration comes first.
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration de conflit d'intérêts")
    expect(page.get_by_role("link", name="dossier.pdf")).to_have_count(0)
    assert_every_field_labelled(page)
    page.get_by_label("Non, aucun conflit d'intérêts", exact=True).check()
    page.get_by_role("button", name="Enregistrer ma déclaration").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Évaluation : {organisation}")
    expect(page.get_by_role("link", name="dossier.pdf")).to_be_visible()
    assert_every_field_labelled(page)
    for title, value in points.items():
        page.get_by_role("group", name=title, exact=True).get_by_label(
            f"{value} – {LEVELS[value]}", exact=True
        ).check()
    for criterion in "ABC":
        page.get_by_label(label(f"Justification : {criterion}")).fill(
            f"Critère {criterion} : appréciation motivée au vu du dossier."
        )
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator(".messages")).to_contain_text(
        "Votre évaluation est enregistrée en brouillon."
    )
    # The draft kept every score.
    for title, value in points.items():
        expect(
            page.get_by_role("group", name=title, exact=True).get_by_label(
                f"{value} – {LEVELS[value]}", exact=True
            )
        ).to_be_checked()


def submit_evaluation(page):
    click_and_confirm(
        page,
        page.get_by_role("button", name="Déposer l'évaluation"),
        question="Déposer l’évaluation ? Elle ne sera plus modifiable.",
        then="Votre évaluation est déposée.",
    )


def test_a_call_is_evaluated_ranked_decided_and_notified(
    page, tmp_path, graded_call, evaluators, instructeur, ddets_reader
):
    call = graded_call
    lot = call.lots.first()
    alpha = submitted_dossier(call, ALPHA, lot=lot)
    beta = submitted_dossier(call, BETA, lot=lot)
    close(call)  # the deadline has passed
    candidate = alpha.organisation.memberships.get().user
    first, second = evaluators

    # 1. The instructeur finds the call's instruction from its back-office page.
    log_in(page, instructeur.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Gestion des appels à projets")
    page.get_by_role("link", name=re.compile(re.escape(call.title))).first.click()
    tabs = page.get_by_role("navigation", name="Parties de l’appel à projets")
    tabs.get_by_role("link", name="Instruction", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Recevabilité des dossiers")

    # The checks the platform computed, for each dossier.
    table = page.get_by_role("table")
    for check in (
        "Toutes les pièces obligatoires sont présentes",
        "Exemplaire électronique déposé dans les délais",
        "Type de structure éligible",
    ):
        expect(table.get_by_role("columnheader", name=check)).to_be_visible()
    for name in (ALPHA, BETA):
        row = table.get_by_role("row").filter(has_text=name)
        expect(row.locator(".badge")).to_have_text(["oui", "oui", "oui"])
        expect(row).to_contain_text("à décider")

    # Alpha is admissible.
    page.get_by_role("link", name=f"décider : {ALPHA}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Recevabilité : {ALPHA}")
    checks = page.get_by_role("list").filter(has_text="Type de structure éligible")
    expect(checks.get_by_role("listitem")).to_have_count(3)
    expect(checks.locator(".badge")).to_have_text(["oui", "oui", "oui"])
    assert_every_field_labelled(page)
    page.get_by_label("Recevable", exact=True).check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator(".messages")).to_contain_text(
        "La décision de recevabilité est enregistrée."
    )
    expect(page.get_by_role("row").filter(has_text=ALPHA)).to_contain_text("Recevable")

    # Beta is not: without a reason, the decision is refused and says why.
    page.get_by_role("link", name=f"décider : {BETA}").click()
    page.get_by_label("Irrecevable", exact=True).check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    reason = page.get_by_label(label("Motif (obligatoire si irrecevable, communiqué au candidat)"))
    expect(page.locator("#div_id_reason")).to_contain_text("Indiquez le motif de l'irrecevabilité.")
    expect(reason).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_label("Irrecevable", exact=True)).to_be_checked()
    assert not Admissibility.objects.filter(candidature=beta).exists()
    reason.fill(INADMISSIBLE_REASON)
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator(".messages")).to_contain_text(
        "La décision de recevabilité est enregistrée."
    )
    expect(page.get_by_role("row").filter(has_text=BETA)).to_contain_text("Irrecevable")
    beta.refresh_from_db()
    assert beta.admissibility.outcome == AdmissibilityOutcome.INADMISSIBLE
    assert beta.admissibility.reason == INADMISSIBLE_REASON
    beta_member = beta.organisation.memberships.get().user
    told = [m for m in mail.outbox if m.to == [beta_member.email] and INADMISSIBLE_REASON in m.body]
    assert len(told) == 1, [(m.to, m.subject) for m in mail.outbox]

    # 2. Every evaluator to every admissible dossier of the lot.
    steps = page.get_by_role("navigation", name="Étapes de l’instruction")
    steps.get_by_role("link", name="3. Affectations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Affectation des évaluateurs")
    page.get_by_role(
        "button", name=f"Affecter tous les évaluateurs à tous les dossiers du lot {lot.name}"
    ).click()
    expect(page.locator(".messages")).to_contain_text(
        f"2 affectation(s) créée(s) sur le lot {lot.name}."
    )
    row = page.get_by_role("row").filter(has_text=ALPHA)
    for evaluator in evaluators:
        expect(row).to_contain_text(f"{evaluator} – Déclaration attendue")
    expect(page.get_by_role("row").filter(has_text=BETA)).to_have_count(0)  # not evaluated
    log_out(page)

    # 3. The first evaluator scores, saves a draft, then submits.
    log_in(page, first.email)
    score_dossier(page, ALPHA, SCORES_1)
    expect(page.get_by_text("visibles une fois votre évaluation déposée")).to_be_visible()
    submit_evaluation(page)
    expect(page.locator(".alert-success").filter(has_text="Évaluation déposée le")).to_contain_text(
        "81,25 / 100"
    )
    expect(page.get_by_role("button", name="Déposer l'évaluation")).to_be_disabled()
    log_out(page)

    # The second one scores blind: the first total stays hidden until they submit.
    log_in(page, second.email)
    score_dossier(page, ALPHA, SCORES_2)
    main = page.locator("main")
    expect(main).not_to_contain_text("81,25")
    expect(main).not_to_contain_text("Les autres évaluations")
    submit_evaluation(page)
    expect(main).to_contain_text("50,00 / 100")
    others = page.get_by_role("heading", name="Les autres évaluations")
    expect(others).to_be_visible()
    expect(main).to_contain_text(f"{first} : 81,25 / 100")
    log_out(page)
    assert sorted(
        Evaluation.objects.filter(status=EvaluationStatus.SUBMITTED).values_list("total", flat=True)
    ) == [Decimal("50"), Decimal("81.25")]

    # 4. The instructeur reads the ranking of the lot.
    log_in(page, instructeur.email)
    menu(page, "Classements")
    expect(page.get_by_role("heading", level=1)).to_have_text("Classements")
    page.get_by_role("link", name=f"Classement {lot.name}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Classement – lot {lot.name}")
    ranking = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Rang"))
    row = ranking.get_by_role("row").filter(has_text=ALPHA)

    def column(title):
        """The cell of Alpha's row under the column whose header starts with ``title``."""
        titles = [text.strip() for text in ranking.get_by_role("columnheader").all_inner_texts()]
        index = next(i for i, text in enumerate(titles) if text.startswith(title))
        return row.locator("th, td").nth(index)

    expect(column("Rang")).to_have_text("1")
    # Short headers C1, C2, C3, named in full above the table.
    for number, (criterion, value) in enumerate(zip("ABC", CRITERIA_MEAN, strict=True), 1):
        expect(column(f"C{number} (/")).to_have_text(value)
        expect(ranking.get_by_role("columnheader", name=f"C{number} (/")).to_have_count(1)
        expect(page.get_by_label("Critères")).to_contain_text(f"C{number} : {criterion} (sur")
    expect(column("Moyenne /100")).to_have_text(MEAN)
    expect(column("Retenue /100")).to_have_text(MEAN)
    expect(column("/20")).to_have_text(ON_20)
    expect(column("Évaluations")).to_have_text("2 (50,00–81,25)")
    spread = column("Écart")
    expect(spread).to_contain_text(SPREAD)
    expect(spread).to_contain_text("à harmoniser")
    expect(ranking.get_by_role("row").filter(has_text=BETA)).to_have_count(0)
    # The chart, drawn by Chart.js from our static files, and the table that says the same.
    canvas = page.locator("canvas[data-kind=bars]")
    expect(canvas).to_have_attribute("role", "img")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-kind=bars]'))"
    )
    bands = page.get_by_role("table").filter(
        has=page.get_by_text("Nombre de dossiers par tranche de note (sur 100)")
    )
    expect(bands.get_by_role("row").filter(has_text="60–70")).to_contain_text("1")
    expect(bands.get_by_role("row").filter(has_text="80–90")).to_contain_text("0")
    log_out(page)

    # 5. The DDETS reads the ranking and the evaluations, and gives its opinion.
    log_in(page, ddets_reader.email)
    menu(page, "Classements")
    expect(page.get_by_role("heading", level=1)).to_have_text("Classements")
    page.get_by_role("link", name=f"Classement {lot.name}").click()
    expect(page.get_by_role("button", name=re.compile("^Figer"))).to_have_count(0)
    page.get_by_role("link", name=ALPHA, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Évaluations : {ALPHA}")
    expect(page.locator("main")).to_contain_text(f"{MEAN} / 100")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-kind=radar]'))"
    )
    assert_every_field_labelled(page)
    # No decision, consensus or reopening for the DDETS: its opinion only.
    for heading in ("Note de consensus", "Décision du comité"):
        expect(page.get_by_role("heading", name=heading)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Enregistrer la décision"))).to_have_count(0)
    expect(page.get_by_text("Rouvrir cette évaluation")).to_have_count(0)
    expect(page.locator("form[action*='/decision/'], form[action*='/consensus/']")).to_have_count(0)
    opinions = page.get_by_role("region", name="Avis de la DDETS")
    opinions.get_by_label("Favorable", exact=True).check()
    opinions.get_by_label(label("Commentaire")).fill("Projet cohérent avec le SPE local.")
    opinions.get_by_role("button", name="Enregistrer mon avis").click()
    expect(page.locator(".messages")).to_contain_text("Votre avis est enregistré.")
    expect(opinions).to_contain_text("Favorable")
    expect(opinions).to_contain_text("Projet cohérent avec le SPE local.")
    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role(
        "link", name=f"Classement {lot.name}"
    ).click()
    expect(column("Avis DDETS")).to_have_text("Favorable")
    log_out(page)

    # 6. The committee's decision, its record, then the notification.
    log_in(page, instructeur.email)
    menu(page, "Classements")
    page.get_by_role("link", name=f"Classement {lot.name}").click()
    ranking.get_by_role("link", name=ALPHA, exact=True).click()
    decision = page.get_by_role("region", name="Décision du comité")
    decision.get_by_label(label("Décision")).select_option(label="Retenu")
    decision.get_by_label(label("Montant attribué (€)")).fill("24 500,00")
    decision.get_by_label(label("ETP financés")).fill("0,5")
    decision.get_by_role("button", name=f"Enregistrer la décision : {lot.name}").click()
    expect(page.locator(".messages")).to_contain_text(
        f"La décision est enregistrée pour le lot {lot.name}."
    )
    expect(decision).to_contain_text(re.compile(r"Retenu – 24\s500,00 €, 0,5 ETP"))
    saved = Decision.objects.get(candidature=alpha, lot=lot)
    assert (saved.outcome, saved.amount_granted, saved.fte_granted) == (
        "selected",
        Decimal("24500"),
        Decimal("0.5"),
    )

    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role(
        "link", name=f"Classement {lot.name}"
    ).click()
    expect(column("Décision")).to_have_text("Retenu")
    quorate_meeting(call, by=instructeur)  # the committee met (its pages: test_committee)
    click_and_confirm(
        page,
        page.get_by_role("button", name="Figer le procès-verbal du comité"),
        question="Figer le classement et les notes dans un procès-verbal daté ?",
        then="Le classement est figé dans le procès-verbal du",
    )
    expect(page.get_by_role("link", name=re.compile(r"^Procès-verbal du "))).to_have_count(1)

    steps.get_by_role("link", name="Notifier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Notifier les décisions")
    click_and_confirm(
        page,
        page.get_by_role("button", name="Notifier les décisions"),
        question="Envoyer les lettres de notification à tous les candidats ?",
        then="2 lettre(s) de notification confirmée(s) : elles partent aux candidats",
    )
    # The letters left by their task after commit; each is listed with its dispatch.
    sent = page.get_by_role("region", name="Lettres de l'appel")
    for name in (ALPHA, BETA):
        expect(sent.get_by_role("row").filter(has_text=name)).to_contain_text("Envoyée")
    assert Call.objects.get(pk=call.pk).status == CallStatus.DECIDED
    log_out(page)

    # 7. The candidate reads the decision and downloads the letter.
    log_in(page, candidate.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes dossiers")
    page.get_by_role("link", name=f"Ouvrir {call.title}").click()
    notice = page.get_by_role("status").filter(has_text="vous a été notifiée")
    expect(notice).to_contain_text("La décision du Département sur ce dossier vous a été notifiée.")
    with page.expect_download() as download_info:
        notice.get_by_role("link", name="Télécharger la lettre de notification (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"Notification-{call.reference}.pdf"
    letter = tmp_path / download.suggested_filename
    download.save_as(letter)
    content = letter.read_bytes()
    assert content.startswith(b"%PDF")
    text = pdf_text(content, order="raw")
    assert ALPHA in text
    assert f"{lot.name} Retenu 24 500,00 € pour 0,5 ETP" in text, text
    assert f"Note retenue {MEAN} / 100 ({ON_20} / 20)" in text, text
    # The same letter went by e-mail to the organisation's member.
    sent = [
        attachment
        for message in mail.outbox
        if message.to == [candidate.email]
        for attachment in message.attachments
        if attachment[0] == download.suggested_filename
    ]
    assert [(name, data) for name, data, _mime in sent] == [(download.suggested_filename, content)]

    page.goto(call.get_absolute_url())
    selected = page.get_by_role("region", name="Structures retenues")
    expect(selected).to_contain_text(f"{ALPHA} – lot {lot.name}")
    expect(selected).not_to_contain_text(BETA)
