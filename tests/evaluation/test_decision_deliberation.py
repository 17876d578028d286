"""The reference of the deliberation that grants a subsidy (the commission permanente's
number) is entered with the decision, before its notification, shown on the dossier's
and the ranking's pages, published as the open data's referenceDecision; the notify page
lists the selected decisions still without it; once notified it is frozen with the
decision, and a rectification keeps it."""

import datetime as dt
import html
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from evaluation import services
from evaluation.models import Decision, DecisionFrozen, DecisionRevision
from tests.evaluation import notified as world

DAY = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
REFERENCE = "2026 CP03 12-4"


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(DAY, tick=True):
        yield


@pytest.fixture
def decided(graded_call, instructeur, evaluators):
    return world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])


def page(response) -> str:
    return html.unescape(response.content.decode())


def test_staff_enter_the_deliberation_with_the_decision_and_read_it_back(
    decided, instructeur, client_for
):
    alpha, lot = decided["alpha"], decided["lot"]
    client = client_for(instructeur)
    prefix = f"lot{lot.pk}"
    response = client.post(
        reverse("evaluation:decision", args=[alpha.pk, lot.pk]),
        {
            f"{prefix}-outcome": "selected",
            f"{prefix}-amount_granted": "24 500,00",
            f"{prefix}-fte_granted": "0,5",
            f"{prefix}-deliberation": f"  {REFERENCE} ",
        },
        follow=True,
    )

    decision = Decision.objects.get(candidature=alpha, lot=lot)
    assert decision.deliberation == REFERENCE
    shown = page(response)
    assert f"Délibération : {REFERENCE}" in shown
    assert f'value="{REFERENCE}"' in shown  # the form shows it: saving again keeps it
    row = DecisionRevision.objects.filter(decision=decision).latest("pk")
    assert row.after["référence de la délibération"] == REFERENCE
    ranking = page(client.get(reverse("evaluation:ranking", args=[alpha.call_id, lot.pk])))
    # Under the decision, not a column of its own: the ranking fits 1366 px.
    assert f"Délib. {REFERENCE}" in ranking
    # Beta's decision has none yet: the dossier page says what the open data will do.
    beta = page(client.get(reverse("evaluation:dossier", args=[decided["beta"].pk])))
    assert (
        "Référence de la délibération non saisie : les données ouvertes la laisseront vide." in beta
    )


def test_the_notify_page_lists_the_selected_decisions_without_deliberation(
    decided, instructeur, client_for
):
    alpha, lot = decided["alpha"], decided["lot"]
    client = client_for(instructeur)
    url = reverse("evaluation:notify", args=[alpha.call_id])
    shown = page(client.get(url))
    assert "Décisions retenues sans référence de délibération" in shown
    assert f"{world.ALPHA}, lot {lot.name}" in shown
    assert world.GAMMA not in shown[shown.index("sans référence de délibération") :][:400]

    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
        deliberation=REFERENCE,
    )
    assert "Décisions retenues sans référence de délibération" not in page(client.get(url))


def test_once_notified_the_deliberation_is_frozen_and_a_rectification_keeps_it(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    alpha, lot = decided["alpha"], decided["lot"]
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
        deliberation=REFERENCE,
    )
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)

    with pytest.raises(DecisionFrozen):
        services.record_decision(
            alpha,
            lot,
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("24500"),
            fte_granted=Decimal("0.5"),
            deliberation="2026 CP04 01-1",
        )
    form = page(client_for(instructeur).get(reverse("evaluation:dossier", args=[alpha.pk])))
    assert f"{lot.pk}-deliberation" not in form  # the rectification form has no such field

    with django_capture_on_commit_callbacks(execute=True):
        services.rectify_decision(
            Decision.objects.get(candidature=alpha),
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("20000"),
            fte_granted=Decimal("0.5"),
            reason="Erreur matérielle sur le montant.",
        )
    assert Decision.objects.get(candidature=alpha).deliberation == REFERENCE
