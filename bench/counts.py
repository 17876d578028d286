"""SQL queries per page, in process, for a small data set and for the bench data set.

The small data set (one open call with one lot) is built inside a transaction that is
rolled back, so the bench data set is left as it was.
"""

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aap.models import Call, CallQuestion, Lot
from bench import data

# (name, URL name, whether the page needs the instructeur)
PAGES = [
    ("home", "aap:home", False),
    ("call_list", "aap:call_list", False),
    ("call_detail", "aap:call_detail", False),
    ("backoffice_calls", "aap:backoffice_calls", True),
    ("backoffice_call", "aap:backoffice_call", True),
]
SMALL = data.Shape(calls=1, min_lots=1, max_lots=1, mix={"open": 1.0})


def biggest_open_call() -> Call:
    """The open call with the most lots, then the most questions: the heaviest page."""
    return (
        Call.objects.open_at()
        .annotate(
            lot_count=Count("lots", distinct=True),
            questions_count=Count("questions", distinct=True),
        )
        .order_by("-lot_count", "-questions_count", "pk")
        .first()
    )


def _url(url_name: str, call: Call) -> str:
    if url_name == "aap:call_detail":
        return reverse(url_name, kwargs={"slug": call.slug})
    if url_name == "aap:backoffice_call":
        return reverse(url_name, kwargs={"pk": call.pk})
    return reverse(url_name)


def _measure(call: Call, clients: dict[bool, Client]) -> dict[str, dict]:
    results = {}
    for name, url_name, staff in PAGES:
        client, url = clients[staff], _url(url_name, call)
        client.get(url)  # first request of the process fills caches (content types…)
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} a répondu {response.status_code}")
        results[name] = {"url": url, "queries": len(context.captured_queries)}
    return results


def _size(call: Call) -> dict[str, int]:
    return {
        "calls": Call.objects.count(),
        "lots": Lot.objects.count(),
        "lots_of_call": call.lots.count(),
        "questions_of_call": CallQuestion.objects.filter(call=call).count(),
    }


def query_counts() -> dict:
    anonymous = Client(HTTP_HOST="127.0.0.1")
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(data.instructeur())
    clients = {False: anonymous, True: staff}

    with transaction.atomic():
        data.truncate()
        data.generate(SMALL)
        call = biggest_open_call()
        small = {"size": _size(call), "pages": _measure(call, clients)}
        transaction.set_rollback(True)

    call = biggest_open_call()
    large = {"size": _size(call), "pages": _measure(call, clients)}
    return {"small": small, "large": large}
