"""Evaluators: one reminder e-mail per evaluator and call listing every dossier still to
evaluate, and « Mes évaluations » grouped by call, to do and done, with lots and counts."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from core.reminders import run_sweep
from evaluation import services
from evaluation.models import ScoringGrid
from tests.evaluation.conftest import admitted, make_graded_call, score

PARIS = ZoneInfo("Europe/Paris")
BUILT = dt.datetime(2030, 3, 1, 10, 0, tzinfo=PARIS)
DUE = dt.datetime(2030, 3, 12, 17, 0, tzinfo=PARIS)
SEVEN_DAYS_BEFORE = dt.datetime(2030, 3, 5, 8, 0, tzinfo=PARIS)
POINTS = {"A1": 3, "A2": 3, "B1": 2, "C1": 4, "C2": 1}


@pytest.fixture
def workload(db, evaluators, instructeur):
    """Éva 1 has three dossiers (one done), Éva 2 one, declared in conflict."""
    eva1, eva2 = evaluators
    with time_machine.travel(BUILT, tick=False):
        graded_call = make_graded_call()
        alpha, bravo, charlie = admitted(
            graded_call, ["Alpha", "Bravo", "Charlie"], by_instructeur=instructeur
        )
        score(alpha, eva1, by_instructeur=instructeur, points=POINTS)
        for dossier in (bravo, charlie):
            services.assign(dossier, eva1, by=instructeur)
        conflicted = services.assign(bravo, eva2, by=instructeur)
        services.declare_conflict(conflicted, by=eva2, has_conflict=True, note="Ancienne élue")
    ScoringGrid.objects.update_or_create(call=graded_call, defaults={"due_at": DUE})
    mail.outbox.clear()
    return {"call": graded_call, "eva1": eva1, "eva2": eva2}


def sweep(when, capture):
    sent = len(mail.outbox)
    with time_machine.travel(when, tick=False):
        with capture(execute=True):
            run_sweep()
        with capture(execute=True):
            assert run_sweep() == 0
    return mail.outbox[sent:]


def test_one_reminder_per_evaluator_lists_all_their_dossiers(
    workload, django_capture_on_commit_callbacks
):
    sent = sweep(SEVEN_DAYS_BEFORE, django_capture_on_commit_callbacks)
    reminders = [m for m in sent if "à rendre" in m.subject]
    assert [m.to for m in reminders] == [[workload["eva1"].email]]  # Éva 2: in conflict
    reminder = reminders[0]
    reference = workload["call"].reference
    assert reminder.subject.endswith(
        f"2 évaluations à rendre avant le 12 mars 2030 à 17h00 ({reference})"
    )
    body = reminder.body
    assert "Vos évaluations de ces 2 dossiers" in body
    assert "- Bravo\n- Charlie" in body and "Alpha" not in body  # Alpha is done
    html = reminder.alternatives[0][0]
    assert "<li>Bravo</li><li>Charlie</li>" in html


def _dossier(call, name):
    return call.candidatures.get(organisation__name=name)


def test_a_draft_evaluation_is_still_to_do(
    workload, instructeur, django_capture_on_commit_callbacks
):
    with time_machine.travel(BUILT, tick=False):
        bravo = _dossier(workload["call"], "Bravo")
        score(bravo, workload["eva1"], by_instructeur=instructeur, points=POINTS, submit=False)
    sent = sweep(SEVEN_DAYS_BEFORE, django_capture_on_commit_callbacks)
    (reminder,) = [m for m in sent if "à rendre" in m.subject]
    assert "- Bravo\n- Charlie" in reminder.body


def test_no_reminder_once_every_dossier_is_evaluated(
    workload, instructeur, django_capture_on_commit_callbacks
):
    with time_machine.travel(BUILT, tick=False):
        for name in ("Bravo", "Charlie"):
            dossier = _dossier(workload["call"], name)
            score(dossier, workload["eva1"], by_instructeur=instructeur, points=POINTS)
    sent = sweep(SEVEN_DAYS_BEFORE, django_capture_on_commit_callbacks)
    assert [m for m in sent if "à rendre" in m.subject] == []


def test_mes_evaluations_groups_by_call_to_do_and_done(workload, client_for):
    page = client_for(workload["eva1"]).get(reverse("evaluation:my_evaluations"))
    text = " ".join(page.content.decode().split())
    call = workload["call"]
    assert call.title in text
    assert "2 à faire" in text and "1 faite" in text
    assert "À rendre avant le 12 mars 2030 à 17h00" in text
    to_do = text.index("À faire (2)")
    done = text.index("Faite (1)")
    assert to_do < text.index("Bravo") < text.index("Charlie") < done < text.index("Alpha")
    assert "Lot" in text  # the lot column


def test_mes_evaluations_is_for_evaluators_only(workload, client_for, instructeur, candidate):
    for user in (instructeur, candidate):
        assert client_for(user).get(reverse("evaluation:my_evaluations")).status_code == 403
