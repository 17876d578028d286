"""A notified decision is frozen: every path that would change it is refused (the
service, the decision form's URL, the model layer that the shell and any admin use), and
nothing else than a recorded rectification changes it. Before its notification, each
change of a decision, each consensus score and each opinion leaves a history row."""

import datetime as dt
import html
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from core.exceptions import DomainError
from evaluation import letters, services
from evaluation.models import (
    ConsensusRevision,
    Decision,
    DecisionFrozen,
    DecisionRectification,
    DecisionRevision,
    LetterFrozen,
    NotificationLetter,
    OpinionRevision,
)
from evaluation.states import LetterStatus
from tests.evaluation import notified as world
from tests.evaluation.conftest import admitted

# A day whose French month carries an accent; letters and messages name it.
DAY = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
NOTIFIED = "La décision sur ce dossier a été notifiée le 17 février 2026"


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture
def clock():
    with time_machine.travel(DAY, tick=True):
        yield


@pytest.fixture
def decided(clock, graded_call, instructeur, evaluators):
    return world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])


@pytest.fixture
def notified(decided, graded_call, instructeur, django_capture_on_commit_callbacks):
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    return decided


def state(decision):
    decision.refresh_from_db()
    return (
        decision.outcome,
        decision.amount_granted,
        decision.fte_granted,
        decision.reason,
        decision.decided_at,
        DecisionRevision.objects.filter(decision=decision).count(),
        DecisionRectification.objects.count(),
    )


def page(response) -> str:
    return html.unescape(response.content.decode())


# --- Refused once notified ------------------------------------------------------------------


def test_the_service_refuses_to_change_a_notified_decision(notified, instructeur):
    decision = Decision.objects.get(candidature=notified["alpha"])
    before = state(decision)

    with pytest.raises(DecisionFrozen, match=NOTIFIED):
        services.record_decision(
            notified["alpha"],
            notified["lot"],
            by=instructeur,
            outcome="not_selected",
            reason="Retournement après coup",
        )

    assert state(decision) == before


def test_the_decision_form_url_refuses_with_409_and_changes_nothing(
    notified, instructeur, client_for
):
    alpha, lot = notified["alpha"], notified["lot"]
    decision = Decision.objects.get(candidature=alpha)
    before = state(decision)

    response = client_for(instructeur).post(
        reverse("evaluation:decision", args=[alpha.pk, lot.pk]),
        {f"lot{lot.pk}-outcome": "not_selected", f"lot{lot.pk}-reason": "Après coup"},
    )

    assert response.status_code == 409
    assert NOTIFIED in page(response)
    assert state(decision) == before


def test_the_model_layer_refuses_a_save_a_new_decision_and_a_delete(notified, instructeur):
    """What the shell, or an admin form, would do."""
    decision = Decision.objects.get(candidature=notified["beta"])
    before = state(decision)

    decision.outcome, decision.amount_granted, decision.fte_granted = (
        "selected",
        Decimal("1000"),
        Decimal("0.1"),
    )
    with pytest.raises(DecisionFrozen, match=NOTIFIED):
        decision.save()
    with pytest.raises(DecisionFrozen, match=NOTIFIED):
        Decision.objects.get(pk=decision.pk).delete()
    other_lot = notified["lot"].call.lots.exclude(pk=notified["lot"].pk).get()
    with pytest.raises(DecisionFrozen, match=NOTIFIED):
        Decision(
            candidature=notified["beta"],
            lot=other_lot,
            outcome="waiting_list",
            decided_by=instructeur,
        ).save()

    assert state(decision) == before
    assert Decision.objects.filter(candidature=notified["beta"]).count() == 1


def test_a_rectification_not_recorded_does_not_open_the_model(notified, instructeur):
    """Only a saved rectification of this very decision, with these very values, lets the
    model save: an unsaved one, or another decision's, does not."""
    decision = Decision.objects.get(candidature=notified["gamma"])
    before = state(decision)
    decision.outcome = "not_selected"
    decision.reason = "Sans acte"
    unsaved = DecisionRectification(
        decision=decision, new_outcome="not_selected", old_outcome="waiting_list"
    )
    with pytest.raises(DecisionFrozen):
        decision.save(rectification=unsaved)

    services.rectify_decision(
        Decision.objects.get(candidature=notified["beta"]),
        by=instructeur,
        outcome="waiting_list",
        reason="Erreur matérielle",
    )
    another = DecisionRectification.objects.get()
    with pytest.raises(DecisionFrozen):
        decision.save(rectification=another)

    assert state(decision)[:5] == before[:5]


def test_no_admin_page_edits_decisions_letters_or_rectifications(notified, admin_user, client_for):
    """The Django admin registers none of them: no path there changes an act."""
    for model in (Decision, DecisionRectification, NotificationLetter, DecisionRevision):
        assert model not in admin.site._registry
    client = client_for(admin_user)
    assert client.get("/admin/evaluation/decision/").status_code == 404
    assert client.get("/admin/evaluation/notificationletter/").status_code == 404


def test_the_decisions_are_frozen_as_soon_as_the_letters_are_confirmed(
    decided, graded_call, instructeur, django_capture_on_commit_callbacks
):
    """Before the task has rendered and sent anything, the confirmation froze them."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letters.notify_decisions(graded_call, by=instructeur)
    assert callbacks  # the letter tasks wait for the commit
    assert set(NotificationLetter.objects.values_list("status", flat=True)) == {LetterStatus.QUEUED}
    with pytest.raises(DecisionFrozen):
        services.record_decision(
            decided["gamma"], decided["lot"], by=instructeur, outcome="not_selected", reason="x"
        )


def test_an_inadmissibility_notified_no_longer_changes(notified, instructeur):
    delta = notified["delta"]
    with pytest.raises(DomainError, match="notifiée"):
        services.decide_admissibility(delta, by=instructeur, admissible=True)
    delta.admissibility.refresh_from_db()
    assert delta.admissibility.outcome == "inadmissible"


def test_a_letter_sent_never_changes_nor_goes(notified, instructeur):
    letter = world.decision_letter(notified["alpha"])
    pdf, sha = world.stored(letter), letter.sha256

    letter.opening = "Un autre texte"
    with pytest.raises(LetterFrozen):
        letter.save()
    with pytest.raises(LetterFrozen):
        NotificationLetter.objects.get(pk=letter.pk).delete()
    with pytest.raises(LetterFrozen):
        letters.save_letter_draft(
            notified["alpha"], by=instructeur, opening="Après coup", closing=""
        )

    letter.refresh_from_db()
    assert letter.opening != "Un autre texte"
    assert (world.stored(letter), letter.sha256) == (pdf, sha)


def test_the_dossier_page_offers_a_rectification_instead_of_the_decision_form(
    notified, instructeur, client_for
):
    alpha, lot = notified["alpha"], notified["lot"]
    text = page(client_for(instructeur).get(reverse("evaluation:dossier", args=[alpha.pk])))

    assert f'action="{reverse("evaluation:decision", args=[alpha.pk, lot.pk])}"' not in text
    assert f'action="{reverse("evaluation:rectify", args=[alpha.pk, lot.pk])}"' in text
    assert "Rectifier la décision" in text
    assert NOTIFIED in text


# --- History before the notification --------------------------------------------------------


def test_every_change_of_a_decision_before_notification_leaves_a_history_row(
    clock, graded_call, instructeur, client_for
):
    lot = graded_call.lots.first()
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    services.record_decision(dossier, lot, by=instructeur, outcome="waiting_list")
    services.record_decision(
        dossier,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("12250"),
        fte_granted=Decimal("0.5"),
    )
    services.record_decision(  # the same values again: no change, no row
        dossier,
        lot,
        by=instructeur,
        outcome="selected",
        amount_granted=Decimal("12250"),
        fte_granted=Decimal("0.5"),
    )

    rows = list(DecisionRevision.objects.order_by("at", "pk"))
    assert [row.action for row in rows] == ["create", "update"]
    assert rows[0].before is None
    assert rows[0].after["décision"] == "Liste d'attente"
    assert rows[1].before["décision"] == "Liste d'attente"
    assert rows[1].after["décision"] == "Retenu"
    assert rows[1].after["montant attribué (€)"] == "12\xa0250,00"
    assert {row.by_id for row in rows} == {instructeur.pk}
    text = page(client_for(instructeur).get(reverse("evaluation:dossier", args=[dossier.pk])))
    assert "Historique" in text and "Décision modifiée" in text and "12\xa0250,00" in text


def test_consensus_scores_and_opinions_keep_their_revisions(
    clock, graded_call, instructeur, ddets_reader, client_for
):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur)
    services.set_consensus(dossier, by=instructeur, total=Decimal("70"), reason="Réunion 1")
    services.set_consensus(dossier, by=instructeur, total=Decimal("72.5"), reason="Réunion 2")
    services.record_opinion(dossier, by=ddets_reader, kind="reserved", comment="À revoir")
    services.record_opinion(dossier, by=ddets_reader, kind="favourable", comment="Levé")

    consensus = list(ConsensusRevision.objects.order_by("pk"))
    assert [(row.action, row.after["note de consensus (sur 100)"]) for row in consensus] == [
        ("set", "70,00"),
        ("update", "72,50"),
    ]
    assert consensus[1].before["note de consensus (sur 100)"] == "70,00"
    opinions = list(OpinionRevision.objects.order_by("pk"))
    assert [(row.action, row.after["avis"]) for row in opinions] == [
        ("give", "Réservé"),
        ("revise", "Favorable"),
    ]
    assert opinions[1].before == {"avis": "Réservé", "commentaire": "À revoir"}
    text = page(client_for(instructeur).get(reverse("evaluation:dossier", args=[dossier.pk])))
    for shown in ("Note de consensus modifiée", "72,50", "Avis révisé", "À revoir", "Levé"):
        assert shown in text, shown


def test_history_rows_never_change(clock, graded_call, instructeur):
    lot = graded_call.lots.first()
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    services.record_decision(dossier, lot, by=instructeur, outcome="waiting_list")
    row = DecisionRevision.objects.get()
    row.note = "réécrit"
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()
