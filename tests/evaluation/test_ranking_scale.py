"""The ranking at the size of a real committee, and never stale.

A lot of a thousand admissible dossiers, three evaluations of seven sub-criteria each
(the bench's data, built by ``bench.ranking.prepare`` through bulk inserts and the
services' own grid freeze), beside a lot of three built the same way: the page, for an
instructeur and for the DDETS, and its CSV and XLSX exports take the same number of
queries on both, and every dossier is there with every column. Then the page shows a
score the moment it is recorded: nothing between the database and the page keeps an old
one.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aap.models import Lot
from bench import ranking as bench_ranking
from evaluation import exports, services
from evaluation.models import Consensus
from tests.evaluation.conftest import admitted, score

E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 30 + 26.25 + 25 = 81.25
E2 = {"A1": 2, "A2": 2, "B1": 2, "C1": 1, "C2": 3}  # 20 + 17.5 + 12.5 = 50


@pytest.fixture
def thousand(db):
    return bench_ranking.prepare(dossiers=1000, small=3)


def _get(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.getvalue()  # the CSV is streamed


def test_the_ranking_and_its_exports_take_as_many_queries_for_1000_dossiers_as_for_3(
    thousand, client_for, instructeur, ddets_reader
):
    readers = {"instructeur": instructeur, "ddets": ddets_reader}
    measured = {}
    for page, persona in [
        ("ranking", "instructeur"),
        ("ranking", "ddets"),
        ("ranking_csv", "instructeur"),
        ("ranking_xlsx", "instructeur"),
    ]:
        client = client_for(readers[persona])
        counts = []
        for lot_id in (thousand.small_lot_id, thousand.large_lot_id):
            url = thousand.url(page, lot_id)
            _get(client, url)  # what the process caches once is not counted
            with CaptureQueriesContext(connection) as context:
                _get(client, url)
            counts.append(len(context.captured_queries))
        measured[f"{page} ({persona})"] = counts
    assert all(small == large for small, large in measured.values()), measured
    # The figures come from a handful of set-wise queries, not one per dossier or row.
    assert measured["ranking (instructeur)"][1] <= 25, measured

    client = client_for(instructeur)
    large = thousand.large_lot_id
    page = _get(client, thousand.url("ranking", large)).decode()
    assert page.count('<th scope="row" class="ranking-name">') == 1000
    table = exports.ranking_table(Lot.objects.get(pk=large))
    rows = list(
        csv.reader(
            io.StringIO(_get(client, thousand.url("ranking_csv", large)).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0] == table.columns and len(rows) == 1001
    assert all(len(row) == len(table.columns) for row in rows)
    sheet = load_workbook(io.BytesIO(_get(client, thousand.url("ranking_xlsx", large)))).active
    assert sheet.max_row == 1001 and sheet.max_column == len(table.columns)
    # The first row of the page, of the CSV and of the sheet is the same dossier.
    best = table.dossiers[0]
    assert rows[1][1] == best.organisation.name == sheet["B2"].value
    assert f">{best.organisation.name}</a>" in page


def test_a_new_score_shows_at_once_on_the_page_and_in_the_exports(
    graded_call, instructeur, evaluators, client_for
):
    lot = graded_call.lots.first()
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)  # 81,25
    score(beta, evaluators[0], by_instructeur=instructeur, points=E2)  # 50
    client = client_for(instructeur)
    url = reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])
    xlsx = reverse("evaluation:ranking_export", args=[graded_call.pk, lot.pk, "xlsx"])
    before = _get(client, url).decode()
    assert before.index("EPCI Alpha") < before.index("GIP Bêta")
    assert "81,25" in before and "65,63" not in before and "90,00" not in before
    _get(client, xlsx)

    # A second evaluation of beta: its mean moves at once.
    score(beta, evaluators[1], by_instructeur=instructeur, points=E1)  # (50 + 81,25) / 2
    page = _get(client, url).decode()
    assert "65,63" in page
    # A consensus puts beta first, on the page and in the export, at once.
    services.set_consensus(beta, by=instructeur, total=Decimal("90"), reason="Harmonisation")
    assert Consensus.objects.filter(candidature=beta).exists()
    page = _get(client, url).decode()
    assert page.index("GIP Bêta") < page.index("EPCI Alpha")
    assert "90,00" in page
    sheet = load_workbook(io.BytesIO(_get(client, xlsx))).active
    assert sheet["B2"].value == "GIP Bêta" and sheet["B3"].value == "EPCI Alpha"


def test_the_workbook_is_written_once_per_content_and_never_an_old_one(
    graded_call, instructeur, evaluators, client_for
):
    """The XLSX is kept under the digest of its values: asked again an hour later with
    nothing changed, the same bytes come back (openpyxl would date a new writing); a new
    score makes another workbook at once, with it."""
    lot = graded_call.lots.first()
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    client = client_for(instructeur)
    xlsx = reverse("evaluation:ranking_export", args=[graded_call.pk, lot.pk, "xlsx"])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = _get(client, xlsx)
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        assert _get(client, xlsx) == first
        score(beta, evaluators[0], by_instructeur=instructeur, points=E2)
        changed = _get(client, xlsx)
    assert changed != first

    def retained(content: bytes) -> dict:
        rows = list(load_workbook(io.BytesIO(content)).active.values)
        column = rows[0].index("Note retenue (/100)")
        return {row[1]: row[column] for row in rows[1:]}

    assert retained(first) == {"EPCI Alpha": 81.25, "GIP Bêta": None}
    assert retained(changed) == {"EPCI Alpha": 81.25, "GIP Bêta": 50}


def test_the_rows_written_in_python_escape_what_people_typed(
    graded_call, instructeur, evaluators, client_for
):
    """The page's rows are not written by the template engine: a name, a deliberation's
    reference come out as text, never as markup."""
    lot = graded_call.lots.first()
    name = "<script>alert('nom')</script> & \"Cie\""
    (dossier,) = admitted(graded_call, [name], by_instructeur=instructeur, lot=lot)
    score(dossier, evaluators[0], by_instructeur=instructeur, points=E1)
    page = _get(
        client_for(instructeur), reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])
    ).decode()
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;nom&#x27;)&lt;/script&gt; &amp; &quot;Cie&quot;" in page
