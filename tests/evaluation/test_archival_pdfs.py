"""The acts of the evaluation leave as PDF/A-2b, every font embedded: the committee's
record, the ranking's working PDF, the decision letters and the rectification letters."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from evaluation import services
from evaluation.models import CommitteeRecord, Decision, NotificationLetter
from tests.evaluation import notified as world
from tests.pdf import assert_archival, pdf_info

NOTIFIED_ON = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOTIFIED_ON, tick=True):
        yield


def test_records_rankings_and_letters_are_pdfa(
    graded_call, instructeur, evaluators, client_for, django_capture_on_commit_callbacks
):
    decided = world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    record = CommitteeRecord.objects.get(lot=decided["lot"])
    with record.pdf.open("rb") as handle:
        record_pdf = handle.read()
    ranking = client_for(instructeur).get(
        reverse("evaluation:ranking_export", args=[graded_call.pk, decided["lot"].pk, "pdf"])
    )
    ranking_pdf = b"".join(ranking.streaming_content) if ranking.streaming else ranking.content
    with django_capture_on_commit_callbacks(execute=True):
        rectification = services.rectify_decision(
            Decision.objects.get(candidature=decided["alpha"]),
            by=instructeur,
            outcome="not_selected",
            reason="Erreur matérielle sur le montant.",
        )
    rectified = NotificationLetter.objects.get(rectification=rectification)

    for content in (
        record_pdf,
        ranking_pdf,
        world.stored(world.decision_letter(decided["alpha"])),
        world.stored(world.decision_letter(decided["delta"])),  # inadmissible
        world.stored(rectified),
    ):
        assert_archival(content)
        assert pdf_info(content)["Title"]
