"""The selection committee and the ranking in a real browser: the ranking's money, opinion
and decision columns on a 1366 px screen without scrolling sideways, the criteria radar
drawn at 1280 and 1366 px, and an instructeur who records the committee's meeting, its
members and their declarations of interests, is refused the record while the quorum is
not reached, then freezes it; the DDETS reads the meeting without changing it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aap.models import Criterion, SubCriterion
from core.roles import Role
from demo.seed import CRITERIA
from evaluation import services
from evaluation.models import CommitteeRecord
from evaluation.states import DecisionOutcome
from tests.browser.helpers import assert_every_field_labelled, label, log_in, log_out
from tests.browser.test_accessibility import _violations
from tests.evaluation import conftest as evaluation
from tests.evaluation.conftest import score, submitted_dossier
from tests.factories import UserFactory, as_draft, set_deadline

pytestmark = pytest.mark.browser

# The evaluation tests' fixtures, bound here (an imported name as a test argument trips
# ruff's F811).
graded_call = evaluation.graded_call
evaluators = evaluation.evaluators

# Names as long as real ones: the ranking's name column must not push the money off screen.
NAMES = [
    "Communauté d'agglomération Porte de l'Isère (CAPI)",
    "Groupement d'intérêt public Formation et insertion professionnelle de l'académie",
    "Association Clauses sociales et territoires du Sud-Grésivaudan",
]
E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}
E2 = {"A1": 3, "A2": 1, "B1": 2, "C1": 3, "C2": 2}

# Non-transparent pixels, and those of the data's outline (#0b4f8a), of a canvas.
CANVAS_PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0, outline = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) painted++;
    if (data[i + 3] > 200 && Math.abs(data[i] - 11) < 30 && Math.abs(data[i + 1] - 79) < 30
        && Math.abs(data[i + 2] - 138) < 30) outline++;
  }
  return { painted, outline, width: canvas.width, url: canvas.toDataURL().length };
}"""


def decided_lot(call, instructeur, evaluators, readers):
    """Three dossiers with long names on the call's first lot, scored twice, two DDETS
    opinions each (« Favorable, Réservé »), one decision of each kind."""
    lot = call.lots.first()
    dossiers = [submitted_dossier(call, name, lot=lot) for name in NAMES]
    set_deadline(call, timezone.now() - dt.timedelta(hours=2))  # 7:30, Paris
    for dossier, outcome in zip(dossiers, DecisionOutcome.values, strict=True):
        dossier.refresh_from_db()
        services.decide_admissibility(dossier, by=instructeur, admissible=True)
        score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
        score(dossier, evaluators[1], by_instructeur=instructeur, points=E2)
        for reader, kind in zip(readers, ("favourable", "reserved"), strict=False):
            services.record_opinion(dossier, by=reader, kind=kind, comment="")
        selected = outcome == DecisionOutcome.SELECTED
        services.record_decision(
            dossier,
            lot,
            by=instructeur,
            outcome=outcome,
            amount_granted=Decimal("124500") if selected else None,
            fte_granted=Decimal("0.5") if selected else None,
            reason="Territoire déjà couvert" if outcome == DecisionOutcome.NOT_SELECTED else "",
        )
    return lot, dossiers


def test_the_ranking_shows_requested_opinion_and_decision_at_1366_px_without_scrolling(
    page, graded_call, instructeur, evaluators, ddets_reader
):
    second_reader = UserFactory(email="dora@ddets.test", roles=[Role.LECTEUR_DDETS])
    lot, _dossiers = decided_lot(
        graded_call, instructeur, evaluators, [ddets_reader, second_reader]
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, instructeur.email)
    page.goto(f"/gestion/appels/{graded_call.pk}/classement/{lot.pk}/")
    ranking = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Rang"))
    for header in ("Sollicité", "Avis DDETS", "Décision"):
        cell = ranking.get_by_role("columnheader", name=header, exact=True)
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (header, box)
    row = ranking.get_by_role("row").filter(has_text=NAMES[0])
    expect(row).to_contain_text("Favorable, Réservé")
    expect(row).to_contain_text("Retenu")
    widths = page.evaluate(
        """() => {
          const table = document.querySelector("table.ranking-table");
          const wrapper = table.closest(".table-responsive");
          return {
            table: [table.scrollWidth, table.clientWidth],
            wrapper: [wrapper.scrollWidth, wrapper.clientWidth],
            page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
          };
        }"""
    )
    for name, (scroll, client) in widths.items():
        assert scroll <= client, (name, widths)


def test_the_criteria_radar_draws_at_1280_and_1366_px(page, graded_call, instructeur, evaluators):
    """The seed call's criteria, whose titles run to 70 characters."""
    Criterion.objects.filter(call=graded_call).delete()
    with as_draft(graded_call):
        for position, spec in enumerate(CRITERIA, start=1):
            criterion = Criterion.objects.create(
                call=graded_call, position=position, title=spec["title"], weight=spec["weight"]
            )
            for sub_position, sub in enumerate(spec["subcriteria"], start=1):
                SubCriterion.objects.create(criterion=criterion, position=sub_position, title=sub)
    lot = graded_call.lots.first()
    dossier = submitted_dossier(graded_call, NAMES[0], lot=lot)
    set_deadline(graded_call, timezone.now() - dt.timedelta(hours=2))
    dossier.refresh_from_db()
    services.decide_admissibility(dossier, by=instructeur, admissible=True)
    subs = SubCriterion.objects.filter(criterion__call=graded_call)
    score(dossier, evaluators[0], by_instructeur=instructeur, points={s.title: 3 for s in subs})
    log_in(page, instructeur.email)
    for width in (1280, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/gestion/dossiers/{dossier.pk}/evaluations/")
        canvas = page.locator("canvas[data-kind=radar]")
        expect(canvas).to_be_visible()
        page.wait_for_function(
            "() => window.Chart && Chart.getChart(document.querySelector('canvas[data-kind=radar]'))"
        )
        drawn = canvas.evaluate(CANVAS_PIXELS)
        # Labels, grid and the dossier's outline in the platform's blue.
        assert drawn["painted"] > 2000 and drawn["outline"] > 100, (width, drawn)
        # The table beside it names every criterion in full.
        table = page.get_by_role("table").filter(
            has=page.get_by_text("Notes par critère (% de la pondération)")
        )
        for spec in CRITERIA:
            expect(table.get_by_role("rowheader", name=spec["title"])).to_have_count(1)


def add_member(
    page,
    *,
    name,
    organisation,
    role,
    seat="Membre",
    ddets=False,
    account=None,
    linked=(),
    nature="",
):
    page.get_by_role("link", name="Ajouter un membre présent").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ajouter un membre présent")
    assert_every_field_labelled(page)
    page.get_by_label(label("Nom et prénom")).fill(name)
    page.get_by_label(label("Organisme")).fill(organisation)
    page.get_by_label(label("Fonction")).fill(role)
    page.get_by_label(label("Rôle dans la séance")).select_option(label=seat)
    if ddets:
        page.get_by_label("Représente la DDETS").check()
    if account:
        page.get_by_label(label("Compte sur la plateforme (facultatif)")).select_option(
            label=account
        )
    if linked:
        page.get_by_label("Lien d'intérêts déclaré", exact=True).check()
        for dossier in linked:
            page.get_by_label(dossier, exact=True).check()
        page.get_by_label(label("Nature du lien")).fill(nature)
    else:
        page.get_by_label("Aucun lien d'intérêts", exact=True).check()
    page.get_by_role("button", name="Enregistrer le membre").click()
    expect(page.locator(".messages")).to_contain_text("Le membre présent est enregistré.")


def freeze(page, then):
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Figer le procès-verbal du comité").click()
    expect(page.locator(".messages")).to_contain_text(then, timeout=20_000)


def test_the_committee_meets_reaches_its_quorum_and_freezes_the_record(
    page, graded_call, instructeur, evaluators, ddets_reader
):
    lot, _dossiers = decided_lot(graded_call, instructeur, evaluators, [ddets_reader])
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, instructeur.email)
    page.goto(f"/gestion/appels/{graded_call.pk}/classement/{lot.pk}/")
    expect(page.get_by_text("Aucune séance du comité n'est enregistrée")).to_be_visible()

    # The meeting, from the call's « Comité de sélection » page.
    page.get_by_role("navigation", name="Étapes de l’instruction").get_by_role(
        "link", name="Comité de sélection"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Comité de sélection")
    assert_every_field_labelled(page)  # the quorum rule's form
    assert _violations(page)[0] == []
    page.get_by_role("link", name="Enregistrer une séance").click()
    assert_every_field_labelled(page)
    page.get_by_label(label("Date de la séance")).fill("2025-12-09")
    page.get_by_label(label("Heure (heure de Paris)")).fill("09:00")
    page.get_by_label(label("Lieu")).fill("Hôtel du Département, salle 3")
    page.get_by_role("button", name="Enregistrer la séance").click()
    expect(page.locator(".messages")).to_contain_text("La séance est enregistrée")
    expect(page.locator("main")).to_contain_text("9 décembre 2025 à 09h00")

    add_member(
        page,
        name="Claire Présidente",
        organisation="Département de l'Isère",
        role="Vice-présidente insertion",
        seat="Président(e) de séance",
    )
    add_member(
        page,
        name="Ines Secrétaire",
        organisation="Département de l'Isère",
        role="Chargée de mission IVE",
        seat="Secrétaire de séance",
    )
    quorum = page.get_by_role("region", name="Quorum", exact=True)
    expect(quorum).to_contain_text("non atteint")
    expect(quorum).to_contain_text("Quorum non atteint : 2 membres présents, 3 requis.")

    # Freezing is refused, and says why.
    page.goto(f"/gestion/appels/{graded_call.pk}/classement/{lot.pk}/")
    freeze(page, "Le procès-verbal ne peut pas être figé")
    expect(page.locator(".messages")).to_contain_text(
        "Quorum non atteint : la présence d'un représentant de la DDETS est requise."
    )
    assert not CommitteeRecord.objects.exists()

    # The DDETS's representative, linked to its account, and a member linked to a dossier.
    page.get_by_role("link", name=re.compile("^Séances, membres présents")).click()
    page.get_by_role("link", name=re.compile("^Séance du 9 décembre 2025")).click()
    add_member(
        page,
        name="Denis Lecteur",
        organisation="DDETS de l'Isère",
        role="Pôle insertion",
        ddets=True,
        account=str(ddets_reader),
    )
    add_member(
        page,
        name="Laure Liée",
        organisation="Maison de l'emploi",
        role="Directrice",
        linked=[NAMES[1]],
        nature="Administratrice du GIP",
    )
    members = page.get_by_role("table").filter(has_text="Laure Liée")
    expect(members.get_by_role("row").filter(has_text="Laure Liée")).to_contain_text(
        f"Lien déclaré : {NAMES[1]}"
    )
    expect(members.get_by_role("row").filter(has_text="Denis Lecteur")).to_contain_text("DDETS")
    expect(quorum).to_contain_text("atteint")
    expect(quorum).not_to_contain_text("non atteint")
    assert _violations(page)[0] == []

    page.goto(f"/gestion/appels/{graded_call.pk}/classement/{lot.pk}/")
    freeze(page, "Le classement est figé dans le procès-verbal du")
    record = CommitteeRecord.objects.get()
    records = page.locator(".committee-records")
    expect(records.locator(".sha256")).to_have_text(record.sha256)
    expect(records).to_contain_text("Séance du 9 décembre 2025 à 09h00")

    # The meeting no longer changes: no form, no button.
    page.get_by_role("link", name=re.compile("^Séances, membres présents")).click()
    page.get_by_role("link", name=re.compile("^Séance du 9 décembre 2025")).click()
    expect(page.get_by_role("status").filter(has_text="ne changent plus")).to_be_visible()
    expect(page.get_by_role("link", name="Ajouter un membre présent")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    log_out(page)

    # The DDETS reads the committee and the meeting, and changes nothing.
    log_in(page, ddets_reader.email)
    page.goto(f"/gestion/appels/{graded_call.pk}/comite/")
    expect(page.get_by_text("Quorum atteint")).to_be_visible()
    assert _violations(page)[0] == []
    expect(page.get_by_role("link", name="Enregistrer une séance")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Séance du 9 décembre 2025")).click()
    expect(page.locator("main")).to_contain_text("Administratrice du GIP")
    expect(page.locator("main form")).to_have_count(0)
