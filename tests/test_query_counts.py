"""Pages listing calls or showing one call run as many queries for 1 row as for 20.

Each test measures a page on a small data set (one call with one lot), then grows the
data (20 calls with 5 lots, criteria, documents, actions, questions, history) and
measures the same page again: the count must not move.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import (
    CallQuestion,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    RequiredDocument,
    SubCriterion,
)
from aap.states import CallAction, CallStatus
from tests.factories import CallFactory, add_structure, as_draft, ready_call

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def enrich(call, *, by=None):
    """Three more lots (five in all with ready_call's two), more sub-criteria, four
    documents, eight actions, published and pending questions, a status history."""
    with as_draft(call):
        for index in range(2, 5):
            Lot.objects.create(
                call=call, position=index, name=f"Lot {index + 1}", fte=Decimal("0.25")
            )
        for criterion in call.criteria.all():
            for index in range(2, 4):
                SubCriterion.objects.create(criterion=criterion, position=index, title="Autre")
        for index in range(2, 5):
            RequiredDocument.objects.create(
                call=call, position=index, label=f"Pièce {index}", allowed_formats=["pdf", "docx"]
            )
        for index in range(2, 9):
            ExpectedAction.objects.create(call=call, position=index, label=f"Action {index}")
    for index in range(3):
        CallQuestion.objects.create(
            call=call,
            question=f"Question {index}",
            public_question=f"Question publiée {index}",
            answer="Réponse.",
            answered_by=by,
            published_at=timezone.now(),
        )
    CallQuestion.objects.create(call=call, question="Question en attente")
    for action, before, after in [
        (CallAction.PUBLISH, CallStatus.DRAFT, CallStatus.PUBLISHED),
        (CallAction.UNPUBLISH, CallStatus.PUBLISHED, CallStatus.DRAFT),
        (CallAction.PUBLISH, CallStatus.DRAFT, CallStatus.PUBLISHED),
    ]:
        CallStatusChange.objects.create(
            call=call, action=action, from_status=before, to_status=after, by=by
        )


def small_data_set():
    """One open call with one lot, one criterion, one document and one action, and one
    closed call (the closed section is paginated: its count query runs once there is one)."""
    CallFactory(
        status=CallStatus.CLOSED,
        opens_at=timezone.now() - dt.timedelta(days=60),
        deadline=timezone.now() - dt.timedelta(days=30),
    )
    return add_structure(CallFactory(), lots=1, weights=(Decimal("100"),))


def grow(call, *, by=None):
    """``call`` gets five lots and the rest; 19 more calls, open, upcoming and closed."""
    Lot.objects.filter(call=call).delete()
    Criterion.objects.filter(call=call).delete()
    add_structure(call, lots=2)
    enrich(call, by=by)
    now = timezone.now()
    for index in range(19):
        if index % 3 == 0:
            kwargs = {"opens_at": now + dt.timedelta(days=30), "deadline": now + dt.timedelta(60)}
        elif index % 3 == 1:
            kwargs = {
                "opens_at": now - dt.timedelta(days=90),
                "deadline": now - dt.timedelta(days=30),
                "status": CallStatus.CLOSED,
            }
        else:
            kwargs = {}
        enrich(ready_call(**kwargs), by=by)


def public_urls(call):
    return {
        "home": reverse("aap:home"),
        "call_list": reverse("aap:call_list"),
        "call_detail": reverse("aap:call_detail", kwargs={"slug": call.slug}),
    }


def backoffice_urls(call):
    return {
        "backoffice_calls": reverse("aap:backoffice_calls"),
        "backoffice_call": reverse("aap:backoffice_call", kwargs={"pk": call.pk}),
    }


def assert_same_counts(client, urls, grow_data):
    small = {name: count_queries(client, url) for name, url in urls.items()}
    grow_data()
    large = {name: count_queries(client, url) for name, url in urls.items()}
    assert large == small


def test_public_pages_run_as_many_queries_for_20_calls_as_for_one(client_for):
    call = small_data_set()
    assert_same_counts(client_for(None), public_urls(call), lambda: grow(call))


def test_public_pages_for_a_candidate_run_as_many_queries_for_20_calls(client_for, candidate):
    call = small_data_set()
    assert_same_counts(client_for(candidate), public_urls(call), lambda: grow(call))


def test_backoffice_pages_run_as_many_queries_for_20_calls_as_for_one(client_for, instructeur):
    call = small_data_set()
    assert_same_counts(
        client_for(instructeur),
        {**backoffice_urls(call), **public_urls(call)},
        lambda: grow(call, by=instructeur),
    )


def test_backoffice_page_of_a_draft_runs_as_many_queries_with_more_structure(
    client_for, instructeur
):
    # A draft's page also lists what prevents publishing it, read from its structure.
    call = small_data_set()
    call.status = CallStatus.DRAFT
    call.save(update_fields=["status"])
    assert_same_counts(client_for(instructeur), backoffice_urls(call), lambda: grow(call))
