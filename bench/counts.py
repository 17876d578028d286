"""SQL queries per page, in process, for a small data set and for the bench data set.

The small data set (one open call with one lot, one closed call with one dossier) is
built inside a transaction that is rolled back, so the bench data set is left as it was.
The dossier pages are measured on the call with the most dossiers and on its first
dossier, which the generator gives every kind of row (receipt, paper copy, messages, a
request for pieces).
"""

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aap.models import Call, CallQuestion, Lot
from bench import data
from candidatures.models import Candidature, Document

# (name, URL name, whether the page needs the instructeur)
PAGES = [
    ("home", "aap:home", False),
    ("call_list", "aap:call_list", False),
    ("call_detail", "aap:call_detail", False),
    ("backoffice_calls", "aap:backoffice_calls", True),
    ("backoffice_call", "aap:backoffice_call", True),
    ("staff_dossiers", "candidatures:staff_dossiers", True),
    ("staff_dossier", "candidatures:staff_dossier", True),
]
# One open call with one lot, and one closed call with one dossier: the list of calls
# pages its closed section (a count query runs once there is one), dossiers go to
# closed calls as in the bench data set.
SMALL = data.Shape(calls=2, min_lots=1, max_lots=1, mix={"open": 0.5, "closed": 0.5}, dossiers=1)


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


def biggest_dossier_call() -> Call:
    """The call with the most dossiers: the heaviest list of dossiers."""
    return (
        Call.objects.annotate(dossier_count=Count("candidatures"))
        .order_by("-dossier_count", "pk")
        .first()
    )


def first_dossier(call: Call) -> Candidature:
    return Candidature.objects.filter(call=call).order_by("pk").first()


def _url(url_name: str, call: Call, dossier: Candidature) -> str:
    if url_name == "aap:call_detail":
        return reverse(url_name, kwargs={"slug": call.slug})
    if url_name == "aap:backoffice_call":
        return reverse(url_name, kwargs={"pk": call.pk})
    if url_name == "candidatures:staff_dossiers":
        return reverse(url_name, kwargs={"pk": dossier.call_id})
    if url_name == "candidatures:staff_dossier":
        return reverse(url_name, kwargs={"pk": dossier.pk})
    return reverse(url_name)


def _measure(call: Call, dossier: Candidature, clients: dict[bool, Client]) -> dict[str, dict]:
    results = {}
    for name, url_name, staff in PAGES:
        client, url = clients[staff], _url(url_name, call, dossier)
        client.get(url)  # first request of the process fills caches (content types…)
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} a répondu {response.status_code}")
        results[name] = {"url": url, "queries": len(context.captured_queries)}
    return results


def _size(call: Call, dossier: Candidature) -> dict[str, int]:
    return {
        "calls": Call.objects.count(),
        "lots": Lot.objects.count(),
        "lots_of_call": call.lots.count(),
        "questions_of_call": CallQuestion.objects.filter(call=call).count(),
        "dossiers": Candidature.objects.count(),
        "dossiers_of_call": Candidature.objects.filter(call=dossier.call_id).count(),
        "documents_of_dossier": Document.objects.filter(candidature=dossier).count(),
    }


def _targets() -> tuple[Call, Candidature]:
    return biggest_open_call(), first_dossier(biggest_dossier_call())


def query_counts() -> dict:
    anonymous = Client(HTTP_HOST="127.0.0.1")
    # The session of the load (second factor passed): ``force_login`` would owe it.
    staff = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=data.session_cookie(data.instructeur()))
    clients = {False: anonymous, True: staff}

    with transaction.atomic():
        data.truncate()
        data.generate(SMALL)
        call, dossier = _targets()
        small = {"size": _size(call, dossier), "pages": _measure(call, dossier, clients)}
        transaction.set_rollback(True)

    call, dossier = _targets()
    large = {"size": _size(call, dossier), "pages": _measure(call, dossier, clients)}
    return {"small": small, "large": large}
