"""Candidates see what became of their dossier: « Irrecevable » once told, « Retenu »,
« Liste d'attente » or « Non retenu » once the decision letter has left (never before),
on « Mes dossiers » and on the dossier page, whose timeline shows the admissibility, the
notification, a rectification and the agreement's steps. The list's queries do not grow
with its dossiers."""

import datetime as dt
import html
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidatures.models import Membership
from evaluation import services
from evaluation.models import Decision
from tests.evaluation import notified as world

DECIDED_ON = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
RECTIFIED_ON = dt.datetime(2026, 8, 4, 15, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(DECIDED_ON, tick=True):
        yield


@pytest.fixture
def decided(graded_call, instructeur, evaluators):
    return world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])


def member_of(dossier):
    return dossier.organisation.memberships.get().user


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode()))
    return re.sub(r"\s+", " ", page)


def badges(client) -> list[str]:
    page = client.get(reverse("candidatures:my_dossiers")).content.decode()
    return [
        html.unescape(label) for label in re.findall(r'<span class="badge[^"]*">([^<]+)<', page)
    ]


def test_nothing_but_inadmissibility_shows_before_the_letters_leave(decided, client_for):
    for key, expected in [
        ("alpha", ["Déposé"]),
        ("beta", ["Déposé"]),
        ("gamma", ["Déposé"]),
        ("delta", ["Irrecevable"]),
    ]:
        assert badges(client_for(member_of(decided[key]))) == expected, key


def test_each_candidate_sees_its_outcome_once_notified(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)

    for key, expected in [
        ("alpha", "Retenu"),
        ("beta", "Non retenu"),
        ("gamma", "Liste d'attente"),
        ("delta", "Irrecevable"),
    ]:
        client = client_for(member_of(decided[key]))
        assert badges(client) == [expected], key
        page = text(client.get(reverse("candidatures:dossier", args=[decided[key].pk])))
        assert expected in page
    alpha_page = text(
        client_for(member_of(decided["alpha"])).get(
            reverse("candidatures:dossier", args=[decided["alpha"].pk])
        )
    )
    assert "Dossier déclaré recevable" in alpha_page
    assert "Décision notifiée (lettre envoyée) – 17 février 2026 à 10h00" in alpha_page
    delta_page = text(
        client_for(member_of(decided["delta"])).get(
            reverse("candidatures:dossier", args=[decided["delta"].pk])
        )
    )
    assert "Dossier déclaré irrecevable" in delta_page
    assert world.INADMISSIBLE_REASON in delta_page


def test_a_rectification_changes_the_badge_and_the_timeline(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    decision = Decision.objects.get(candidature=decided["gamma"])
    with (
        time_machine.travel(RECTIFIED_ON, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.rectify_decision(
            decision,
            by=instructeur,
            outcome="selected",
            amount_granted=Decimal("10000"),
            fte_granted=Decimal("0.25"),
            reason="Désistement du lauréat du lot : le dossier sur liste d'attente est retenu.",
        )

    client = client_for(member_of(decided["gamma"]))
    assert badges(client) == ["Retenu"]
    page = text(client.get(reverse("candidatures:dossier", args=[decided["gamma"].pk])))
    assert "Décision rectifiée (nouvelle lettre envoyée) – 4 août 2026 à 15h30" in page


def test_my_dossiers_reads_as_many_queries_for_three_notified_dossiers_as_for_one(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    world.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    member = member_of(decided["alpha"])
    client = client_for(member)
    url = reverse("candidatures:my_dossiers")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    one = count()
    for key in ("beta", "delta"):
        Membership.objects.create(organisation=decided[key].organisation, user=member)
    assert sorted(badges(client)) == ["Irrecevable", "Non retenu", "Retenu"]
    assert count() == one
