"""The Service IVE's side of dossiers: the list of a call, the dossier page, the paper
copy, messages, requests for missing pieces and the verification of receipts."""

import datetime as dt
import hashlib
import html
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from aap.models import Question, RequiredDocument
from candidatures import followup, services
from candidatures.models import Candidature, Message, PaperCopy, PieceRequest
from core.dates import local_datetime
from core.exceptions import DomainError
from core.roles import Role
from demo import modeles
from tests.candidatures.conftest import PDF, fill, pdf_file
from tests.factories import OrganisationFactory, UserFactory, _siret, as_draft, ready_call

XLSX = modeles.budget_xlsx()


def xlsx_file(name="budget.xlsx"):
    return SimpleUploadedFile(name, XLSX, content_type="application/octet-stream")


def submit(dossier, by):
    return services.submit_candidature(dossier, by=by, received_at=timezone.now(), certified=True)


def text(response) -> str:
    """The page as people read it: entities decoded, whitespace collapsed (tags kept)."""
    return " ".join(html.unescape(response.content.decode()).split())


def flat(value: str) -> str:
    """Formatted dates and sizes carry non-breaking spaces: compare them as ``text`` does."""
    return " ".join(str(value).split())


class _TableRows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell, self._in_body = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []
        elif tag == "input" and self._cell is not None and ("type", "checkbox") in attrs:
            self._cell = None  # the box that ticks a row for a bulk action is no column

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(response) -> list[list[str]]:
    parser = _TableRows()
    parser.feed(response.content.decode())
    return parser.rows


def listed(client, call, **params) -> list[str]:
    """The organisations the dossier list shows, in order, for these filters."""
    response = client.get(reverse("candidatures:staff_dossiers", args=[call.pk]), params)
    assert response.status_code == 200
    return [row[0] for row in table_rows(response) if len(row) > 1]


# --- The dossier list of a call ---------------------------------------------------------------


def dossier_for(call, name, kind, *, lots=(0,), with_file=True, budgets=0):
    """A dossier with every required answer; ``lots`` are positions of the call's lots."""
    member = UserFactory(roles=[Role.CANDIDAT])
    organisation = OrganisationFactory(name=name, kind=kind, members=[member])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=member)
    fill(dossier, member, with_file=with_file)
    call_lots = list(call.lots.order_by("position"))
    question = call.form_questions.get(kind="lots")
    services.save_answers(
        dossier, by=member, values={question.pk: [call_lots[i].pk for i in lots] or None}
    )
    budget_piece = call.required_documents.get(label="Budgets prévisionnels")
    for index in range(budgets):
        services.add_document(
            dossier, budget_piece, by=member, uploaded=xlsx_file(f"b{index}.xlsx")
        )
    return dossier


@pytest.fixture
def listed_dossiers(call, instructeur):
    """Five dossiers that each filter tells apart.

    Alpha: EPCI, deposited, lot 1, complete, paper copy received.
    Bravo: association, deposited, lot 2, complete, two budgets, no paper copy.
    Charlie: GIP, draft, lots 1 and 2, complete.
    Delta: EPCI, draft, lot 1, its mandatory file missing.
    Echo: commune, draft, every file and answer but no lot.
    """
    alpha = dossier_for(call, "Alpha", "epci")
    bravo = dossier_for(call, "Bravo", "association", lots=(1,), budgets=2)
    dossier_for(call, "Charlie", "gip", lots=(0, 1))
    dossier_for(call, "Delta", "epci", with_file=False)
    dossier_for(call, "Echo", "commune", lots=())
    submit(alpha, alpha.created_by)
    submit(bravo, bravo.created_by)
    followup.record_paper_copy(
        alpha,
        by=instructeur,
        method="mail",
        postmarked_on=dt.date(2030, 3, 1),
        received_on=dt.date(2030, 3, 4),
        identical="yes",
    )
    return {d.organisation.name: d for d in Candidature.objects.select_related("organisation")}


def test_the_list_shows_every_dossier_with_its_facts(
    client_for, instructeur, call, listed_dossiers
):
    response = client_for(instructeur).get(reverse("candidatures:staff_dossiers", args=[call.pk]))
    rows = {row[0]: row for row in table_rows(response)}
    alpha, bravo = listed_dossiers["Alpha"], listed_dossiers["Bravo"]

    def size(*sizes):
        return flat(filesizeformat(sum(sizes)))

    def when(dossier):
        return flat(date_format(timezone.localtime(dossier.submitted_at), "DATETIME_FORMAT"))

    def receipt(dossier):
        return dossier.receipts.get().number

    assert list(rows) == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    # Structure, SIRET, type, lots, receipt, status, submitted, complete, pieces, paper
    # copy, last message, admissibility, score.
    assert rows["Alpha"] == [
        "Alpha",
        alpha.organisation.siret,
        "EPCI (établissement public de coopération intercommunale)",
        "Lot 1",
        receipt(alpha),
        "Déposé",
        when(alpha),
        "oui",
        f"1 ({size(len(PDF))})",
        f"reçu le {date_format(dt.date(2030, 3, 4), 'SHORT_DATE_FORMAT')}",
        "—",
        "—",
        "—",
    ]
    assert rows["Bravo"] == [
        "Bravo",
        bravo.organisation.siret,
        "Association",
        "Lot 2",
        receipt(bravo),
        "Déposé",
        when(bravo),
        "oui",
        f"3 ({size(len(PDF), len(XLSX), len(XLSX))})",
        "—",
        "—",
        "—",
        "—",
    ]
    assert rows["Charlie"][2:] == [
        "GIP (groupement d'intérêt public)",
        "Lot 1, Lot 2",
        "—",
        "Brouillon",
        "—",
        "oui",
        f"1 ({size(len(PDF))})",
        "—",
        "—",
        "—",
        "—",
    ]
    assert rows["Delta"][3:10] == ["Lot 1", "—", "Brouillon", "—", "non", f"0 ({size(0)})", "—"]
    assert rows["Echo"][2:6] == ["Commune", "—", "—", "Brouillon"]
    assert rows["Echo"][7] == "non"
    assert "5 dossiers" in text(response)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "submitted"}, ["Alpha", "Bravo"]),
        ({"status": "draft"}, ["Charlie", "Delta", "Echo"]),
        ({"lot": "first"}, ["Alpha", "Charlie", "Delta"]),
        ({"lot": "second"}, ["Bravo", "Charlie"]),
        ({"kind": "epci"}, ["Alpha", "Delta"]),
        ({"kind": "association"}, ["Bravo"]),
        ({"kind": "other"}, []),
        ({"complete": "yes"}, ["Alpha", "Bravo", "Charlie"]),
        ({"complete": "no"}, ["Delta", "Echo"]),
        ({"paper_copy": "yes"}, ["Alpha"]),
        ({"paper_copy": "no"}, ["Bravo", "Charlie", "Delta", "Echo"]),
        ({"status": "submitted", "paper_copy": "no"}, ["Bravo"]),
        ({"lot": "second", "complete": "yes", "status": "draft"}, ["Charlie"]),
    ],
)
def test_each_filter_keeps_the_right_dossiers(
    client_for, instructeur, call, listed_dossiers, params, expected
):
    lots = dict(zip(["first", "second"], call.lots.order_by("position"), strict=True))
    if "lot" in params:
        params = {**params, "lot": lots[params["lot"]].pk}
    assert listed(client_for(instructeur), call, **params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"status": "archived"},
        {"lot": "abc"},
        {"lot": "999999"},
        {"kind": "<script>"},
        {"complete": "peut-être"},
        {"paper_copy": "1"},
        {"status": "submitted", "complete": "x"},
    ],
)
def test_an_invalid_filter_value_shows_the_whole_list_and_says_why(
    client_for, instructeur, call, listed_dossiers, params
):
    response = client_for(instructeur).get(
        reverse("candidatures:staff_dossiers", args=[call.pk]), params
    )
    assert [row[0] for row in table_rows(response)] == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Delta",
        "Echo",
    ]
    assert "Sélectionnez un choix valide" in text(response)


def test_filtered_rows_keep_all_their_lots_and_facts(
    client_for, instructeur, call, listed_dossiers
):
    second = call.lots.order_by("position").last()
    response = client_for(instructeur).get(
        reverse("candidatures:staff_dossiers", args=[call.pk]), {"lot": second.pk}
    )
    rows = {row[0]: row for row in table_rows(response)}
    assert rows["Charlie"][3:8] == ["Lot 1, Lot 2", "—", "Brouillon", "—", "oui"]
    assert rows["Bravo"][8].startswith("3 (")
    assert "2 dossiers" in text(response)


def test_a_lot_of_another_call_is_not_a_valid_filter(
    client_for, instructeur, call, listed_dossiers
):
    other_lot = ready_call().lots.first()
    assert len(listed(client_for(instructeur), call, lot=other_lot.pk)) == 5


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("instructeur", 200),
        ("ddets_reader", 200),
        ("candidate", 403),
        ("evaluator", 403),
        ("anonymous", 302),
    ],
)
def test_who_opens_the_list_and_the_dossier_page(
    request, client_for, call, listed_dossiers, persona, expected
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    dossier = listed_dossiers["Alpha"]
    if persona == "candidate":  # even a member of the dossier's organisation
        dossier.organisation.memberships.create(user=user)
    client = client_for(user)
    for url in [
        reverse("candidatures:staff_dossiers", args=[call.pk]),
        reverse("candidatures:staff_dossier", args=[dossier.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == expected, url
        if expected == 200:
            assert "Alpha" in response.content.decode()


def test_the_ddets_reads_but_does_not_manage(client_for, ddets_reader, listed_dossiers):
    dossier = listed_dossiers["Bravo"]
    client = client_for(ddets_reader)
    page = client.get(reverse("candidatures:staff_dossier", args=[dossier.pk])).content.decode()
    assert reverse("candidatures:paper_copy", args=[dossier.pk]) not in page
    assert reverse("candidatures:piece_request", args=[dossier.pk]) not in page
    for name in ["paper_copy", "staff_message", "piece_request"]:
        response = client.post(
            reverse(f"candidatures:{name}", args=[dossier.pk]),
            {"method": "mail", "received_on": "2030-03-04", "body": "Bonjour"},
        )
        assert response.status_code == 403, name
    assert not PaperCopy.objects.filter(candidature=dossier).exists()
    assert not Message.objects.exists()


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def small_call_and_dossier(member, instructeur):
    """A call with one question; one deposited dossier with one answer, one file, one
    request for one piece and its paper copy (a request's pieces and history, and the
    paper copy's history, are read by Django only once there is a request or a paper
    copy: one query more each, whatever their number)."""
    call = ready_call(paper_copy_required=True)
    with as_draft(call):
        question = Question.objects.create(
            call=call, position=1, label="Résumé du projet", kind="long_text"
        )
    dossier = Candidature.objects.create(
        call=call, organisation=OrganisationFactory(members=[member]), created_by=member
    )
    services.save_answers(
        dossier, by=member, values={question.pk: "Un résumé."}, lot_ids=[call.lots.first().pk]
    )
    services.add_document(
        dossier, call.required_documents.get(mandatory=True), by=member, uploaded=pdf_file()
    )
    submit(dossier, member)
    followup.request_pieces(
        dossier,
        by=instructeur,
        required_documents=call.required_documents.all(),
        message="La version signée, s'il vous plaît.",
        due_at=timezone.now() + dt.timedelta(days=5),
    )
    followup.record_paper_copy(
        dossier,
        by=instructeur,
        method="mail",
        postmarked_on=timezone.localdate(),
        received_on=timezone.localdate(),
    )
    return call, dossier


def enrich(dossier, member, instructeur, *, questions, budget_piece):
    """Every question answered, four files, deposited twice (two receipts, three status
    changes), four messages, two requests for pieces and a paper copy."""
    call = dossier.call
    services.save_answers(
        dossier,
        by=member,
        values={q.pk: f"Réponse {q.position}" for q in questions},
        lot_ids=list(call.lots.values_list("pk", flat=True)),
    )
    if not dossier.documents.exists():
        services.add_document(
            dossier, call.required_documents.get(mandatory=True), by=member, uploaded=pdf_file()
        )
    for index in range(3):
        services.add_document(
            dossier, budget_piece, by=member, uploaded=xlsx_file(f"budget-{index}.xlsx")
        )
    submit(dossier, member)
    services.withdraw_candidature(dossier, by=member, received_at=timezone.now(), note="Oubli")
    submit(dossier, member)
    for index in range(2):
        followup.post_message(dossier, by=member, body=f"Question {index}")
        followup.post_message(dossier, by=instructeur, body=f"Réponse {index}")
    pieces = list(call.required_documents.all())
    for index in range(2):
        piece_request = followup.request_pieces(
            dossier,
            by=instructeur,
            required_documents=pieces,
            message=f"Demande {index}",
            due_at=timezone.now() + dt.timedelta(days=5 + index),
        )
    followup.close_piece_request(piece_request, by=instructeur)
    followup.record_paper_copy(
        dossier,
        by=instructeur,
        reason="Remis en main propre",
        method="hand",
        received_on=timezone.localdate(),
        received_at=timezone.now(),
        hand_receipt_number="R-12",
        identical="yes",
        note="Reçu à l'accueil.",
    )


def grow(call, dossier, member, instructeur):
    """Four more questions, a piece with several files; the dossier and 19 others full."""
    with as_draft(call):
        for index in range(2, 6):
            Question.objects.create(
                call=call,
                position=index,
                label=f"Question {index}",
                kind="long_text",
                required=False,
            )
        budget_piece = RequiredDocument.objects.create(
            call=call,
            position=2,
            label="Budgets prévisionnels",
            allowed_formats=["xlsx"],
            mandatory=False,
            multiple=True,
        )
    questions = list(call.form_questions.all())
    services.withdraw_candidature(dossier, by=member, received_at=timezone.now())
    enrich(dossier, member, instructeur, questions=questions, budget_piece=budget_piece)
    for _index in range(19):
        other_member = UserFactory(roles=[Role.CANDIDAT])
        other = Candidature.objects.create(
            call=call,
            organisation=OrganisationFactory(members=[other_member]),
            created_by=other_member,
        )
        enrich(other, other_member, instructeur, questions=questions, budget_piece=budget_piece)


def test_list_and_dossier_page_run_as_many_queries_for_20_full_dossiers_as_for_one(
    client_for, candidate, instructeur
):
    call, dossier = small_call_and_dossier(candidate, instructeur)
    list_url = reverse("candidatures:staff_dossiers", args=[call.pk])
    pages = {
        "list": (instructeur, list_url),
        "list_filtered": (
            instructeur,
            f"{list_url}?status=submitted&complete=yes&lot={call.lots.first().pk}",
        ),
        "staff_dossier": (instructeur, reverse("candidatures:staff_dossier", args=[dossier.pk])),
        # The candidate's page reads the dossier with the same query.
        "candidate_dossier": (candidate, reverse("candidatures:dossier", args=[dossier.pk])),
    }

    def measure():
        return {name: count_queries(client_for(user), url) for name, (user, url) in pages.items()}

    small = measure()
    grow(call, dossier, candidate, instructeur)
    assert Candidature.objects.count() == 20
    assert (dossier.messages.count(), dossier.receipts.count(), dossier.documents.count()) == (
        4,
        3,
        4,
    )
    assert measure() == small


# --- The staff dossier page -------------------------------------------------------------------


@pytest.fixture
def deposited(complete_dossier, candidate):
    """The complete dossier, deposited, with the paper copy required by its call."""
    complete_dossier.call.paper_copy_required = True
    complete_dossier.call.save(update_fields=["paper_copy_required"])
    submit(complete_dossier, candidate)
    return complete_dossier


def test_the_staff_page_shows_answers_files_with_sha256_receipts_and_history(
    client_for, candidate, instructeur, complete_dossier
):
    budget = complete_dossier.call.required_documents.get(label="Budgets prévisionnels")
    services.add_document(complete_dossier, budget, by=candidate, uploaded=xlsx_file())
    first = submit(complete_dossier, candidate)
    services.withdraw_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), note="Budget à corriger"
    )
    second = submit(complete_dossier, candidate)
    response = client_for(instructeur).get(
        reverse("candidatures:staff_dossier", args=[complete_dossier.pk])
    )
    page = text(response)
    assert "Résumé du projet</dt> <dd><p>Co-animer le réseau des facilitateurs.</p></dd>" in page
    assert "Montant sollicité</dt> <dd><p>25 000,00 €</p></dd>" in page
    assert 'Cofinancements</dt> <dd><span class="text-body-secondary">Pas de réponse' in page
    rows = {row[1]: row for row in table_rows(response) if len(row) == 4}
    assert rows["dossier.pdf"][3] == hashlib.sha256(PDF).hexdigest()
    assert rows["budget.xlsx"][3] == hashlib.sha256(XLSX).hexdigest()
    for document in complete_dossier.documents.all():
        assert (
            reverse("candidatures:staff_download", args=[complete_dossier.pk, document.pk]) in page
        )
    # Receipts, newest first: the superseded one says when it was replaced.
    assert page.index(second.number) < page.index(first.number)
    first.refresh_from_db()
    replaced = flat(date_format(timezone.localtime(first.superseded_at), "DATETIME_FORMAT"))
    assert f"remplacé le {replaced}" in flat(page)
    assert page.count("en vigueur") == 1
    assert reverse("candidatures:staff_receipt", args=[complete_dossier.pk, second.pk]) in page
    # History, in order, with who and why.
    history = page[page.index("Historique") :]
    positions = [
        history.index("Dossier commencé le"),
        history.index("<strong>Déposer</strong>"),
        history.index("<strong>Retirer pour modifier</strong>"),
        history.rindex("<strong>Déposer</strong>"),
    ]
    assert positions == sorted(positions)
    assert "Budget à corriger" in history
    assert str(candidate) in history


def test_staff_download_a_file_as_an_attachment(client_for, instructeur, deposited):
    document = deposited.documents.get()
    response = client_for(instructeur).get(
        reverse("candidatures:staff_download", args=[deposited.pk, document.pk])
    )
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- Paper copies -----------------------------------------------------------------------------

SEPT_17 = dt.date(2024, 9, 17)


def set_deadline(call, day, hour=dt.time(17, 0), *, rule="postmark"):
    """Move the (already deposited) call's deadline to ``day`` at ``hour``, Paris time."""
    deadline = local_datetime(day, hour)
    type(call).objects.filter(pk=call.pk).update(
        opens_at=deadline - dt.timedelta(days=30), deadline=deadline, paper_copy_rule=rule
    )
    call.refresh_from_db()
    return deadline


def post_paper_copy(client, dossier, **data):
    # A correction needs its reason (tests/candidatures/test_followup_history.py).
    data = {"identical": "unchecked", "reason": "Saisie corrigée", **data}
    data = {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in data.items()
    }
    return client.post(reverse("candidatures:paper_copy", args=[dossier.pk]), data, follow=True)


def test_recording_a_paper_copy_sent_by_registered_mail(client_for, instructeur, deposited):
    set_deadline(deposited.call, SEPT_17)
    response = post_paper_copy(
        client_for(instructeur),
        deposited,
        method="mail",
        postmarked_on=SEPT_17,
        received_on=dt.date(2024, 9, 20),
        identical="yes",
        note="Deux exemplaires reçus.",
    )
    paper = PaperCopy.objects.get(candidature=deposited)
    assert (paper.method, paper.postmarked_on, paper.received_on) == (
        "mail",
        SEPT_17,
        dt.date(2024, 9, 20),
    )
    assert (paper.received_at, paper.hand_receipt_number) == (None, "")
    assert (paper.identical, paper.note, paper.recorded_by) == (
        "yes",
        "Deux exemplaires reçus.",
        instructeur,
    )
    page = text(response)
    assert "L'exemplaire papier est enregistré." in page
    assert "Cachet de la Poste : 17 septembre 2024" in page
    assert "Reçu le : 20 septembre 2024" in page
    assert "Identique à la version électronique" in page
    assert "Deux exemplaires reçus." in page
    assert (
        '<strong>Dans les délais</strong> <span class="small">(cachet de la Poste faisant foi)'
        in page
    )


def test_recording_a_paper_copy_handed_over_against_a_receipt(client_for, instructeur, deposited):
    set_deadline(deposited.call, SEPT_17)
    response = post_paper_copy(
        client_for(instructeur),
        deposited,
        method="hand",
        received_on=SEPT_17,
        received_time="16:59",
        hand_receipt_number="R-2024-017",
        identical="no",
        note="Il manque l'annexe 3.",
    )
    paper = PaperCopy.objects.get(candidature=deposited)
    assert paper.received_at == local_datetime(SEPT_17, dt.time(16, 59))
    assert paper.received_at.astimezone(dt.UTC).hour == 14  # summer time: UTC+2
    assert (paper.hand_receipt_number, paper.postmarked_on, paper.identical) == (
        "R-2024-017",
        None,
        "no",
    )
    page = text(response)
    assert "Récépissé n° R-2024-017" in page
    assert "Reçu le : 17 septembre 2024 à 16h59" in page
    assert "Différent de la version électronique" in page
    assert "Il manque l'annexe 3." in page
    assert "<strong>Dans les délais</strong>" in page


def test_correcting_the_method_clears_what_belonged_to_the_other(
    client_for, instructeur, deposited
):
    client = client_for(instructeur)
    post_paper_copy(
        client,
        deposited,
        method="hand",
        received_on=SEPT_17,
        received_time="10:00",
        hand_receipt_number="R-1",
    )
    post_paper_copy(client, deposited, method="mail", postmarked_on=SEPT_17, received_on=SEPT_17)
    paper = PaperCopy.objects.get(candidature=deposited)
    assert (paper.method, paper.received_at, paper.hand_receipt_number) == ("mail", None, "")
    post_paper_copy(
        client,
        deposited,
        method="hand",
        postmarked_on=SEPT_17,
        received_on=SEPT_17,
        received_time="10:00",
        hand_receipt_number="R-2",
    )
    paper.refresh_from_db()
    assert (paper.method, paper.postmarked_on, paper.hand_receipt_number) == ("hand", None, "R-2")
    assert PaperCopy.objects.count() == 1


@pytest.mark.parametrize(
    ("rule", "data", "on_time"),
    [
        # Cachet de la Poste faisant foi: the postmark's date counts, not the reception.
        (
            "postmark",
            {"method": "mail", "postmarked_on": "2024-09-17", "received_on": "2024-09-23"},
            True,
        ),
        (
            "postmark",
            {"method": "mail", "postmarked_on": "2024-09-18", "received_on": "2024-09-19"},
            False,
        ),
        (
            "postmark",
            {"method": "mail", "postmarked_on": "2024-09-10", "received_on": "2024-09-11"},
            True,
        ),
        # Reception rule: the day it reached the Département counts, whatever the postmark.
        (
            "reception",
            {"method": "mail", "postmarked_on": "2024-09-16", "received_on": "2024-09-17"},
            True,
        ),
        (
            "reception",
            {"method": "mail", "postmarked_on": "2024-09-17", "received_on": "2024-09-18"},
            False,
        ),
        # By hand, against a receipt: the hour counts, under either rule.
        (
            "postmark",
            {"method": "hand", "received_on": "2024-09-17", "received_time": "16:59"},
            True,
        ),
        (
            "postmark",
            {"method": "hand", "received_on": "2024-09-17", "received_time": "17:00"},
            True,
        ),
        (
            "postmark",
            {"method": "hand", "received_on": "2024-09-17", "received_time": "17:01"},
            False,
        ),
        (
            "reception",
            {"method": "hand", "received_on": "2024-09-17", "received_time": "17:01"},
            False,
        ),
        (
            "reception",
            {"method": "hand", "received_on": "2024-09-16", "received_time": "18:30"},
            True,
        ),
    ],
)
def test_the_paper_copy_verdict_follows_the_rule_of_the_call(
    client_for, instructeur, deposited, rule, data, on_time
):
    set_deadline(deposited.call, SEPT_17, rule=rule)
    if data["method"] == "hand":
        data = {**data, "hand_receipt_number": "R-1"}
    response = post_paper_copy(client_for(instructeur), deposited, **data)
    paper = PaperCopy.objects.select_related("candidature__call").get(candidature=deposited)
    assert followup.is_paper_copy_on_time(paper) is on_time
    verdict = "Dans les délais" if on_time else "Hors délai"
    assert f"<strong>{verdict}</strong>" in text(response)


@pytest.mark.parametrize(
    ("deadline_day", "today"),
    [
        # Clocks go forward at 2:00 on 30 March 2025; recorded the week before, in winter.
        (dt.date(2025, 3, 30), dt.datetime(2025, 3, 24, 9, 0)),
        # Clocks go back at 3:00 on 27 October 2024; recorded the week before, in summer.
        (dt.date(2024, 10, 27), dt.datetime(2024, 10, 21, 9, 0)),
        # The day after each change, recorded before it.
        (dt.date(2025, 3, 31), dt.datetime(2025, 3, 29, 9, 0)),
        (dt.date(2024, 10, 28), dt.datetime(2024, 10, 26, 9, 0)),
    ],
)
def test_a_hand_delivery_is_judged_to_the_minute_across_a_daylight_saving_change(
    client_for, instructeur, deposited, deadline_day, today
):
    deadline = set_deadline(deposited.call, deadline_day)
    client = client_for(instructeur)
    verdicts = {}
    with time_machine.travel(timezone.make_aware(today), tick=False):
        for hour in ["16:59", "17:01"]:
            post_paper_copy(
                client,
                deposited,
                method="hand",
                received_on=deadline_day,
                received_time=hour,
                hand_receipt_number="R-1",
            )
            paper = PaperCopy.objects.select_related("candidature__call").get()
            assert timezone.localtime(paper.received_at).strftime("%H:%M") == hour
            verdicts[hour] = followup.is_paper_copy_on_time(paper)
    assert verdicts == {"16:59": True, "17:01": False}
    assert abs(paper.received_at - deadline) == dt.timedelta(minutes=1)


def test_an_hour_skipped_by_the_clocks_is_refused(client_for, instructeur, deposited):
    response = post_paper_copy(
        client_for(instructeur),
        deposited,
        method="hand",
        received_on=dt.date(2025, 3, 30),
        received_time="02:30",
        hand_receipt_number="R-1",
    )
    assert "Cette heure n'existe pas, ou existe deux fois" in text(response)
    assert not PaperCopy.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"method": "mail", "received_on": "2024-09-20"},
            "Date du cachet de la Poste : Indiquez la date du cachet de la Poste.",
        ),
        (
            {"method": "hand", "received_on": "2024-09-17", "received_time": "10:00"},
            "Indiquez le numéro du récépissé remis.",
        ),
        (
            {"method": "hand", "received_on": "2024-09-17", "hand_receipt_number": "R-1"},
            "Indiquez l'heure de remise.",
        ),
        (
            {"method": "mail", "postmarked_on": "2024-09-21", "received_on": "2024-09-20"},
            "Le cachet de la Poste ne peut pas suivre la réception.",
        ),
        (
            {"method": "mail", "postmarked_on": "2024-09-17"},
            "Date de réception : Ce champ est obligatoire.",
        ),
        (
            {"method": "pigeon", "received_on": "2024-09-20"},
            "Mode d'envoi : Sélectionnez un choix valide.",
        ),
    ],
)
def test_an_incomplete_paper_copy_is_refused_in_french(
    client_for, instructeur, deposited, data, message
):
    response = post_paper_copy(client_for(instructeur), deposited, **data)
    assert message in text(response)
    assert "L'exemplaire papier est enregistré." not in text(response)
    assert not PaperCopy.objects.exists()


def test_a_paper_copy_is_not_recorded_on_a_draft(client_for, instructeur, complete_dossier):
    response = post_paper_copy(
        client_for(instructeur),
        complete_dossier,
        method="mail",
        postmarked_on=SEPT_17,
        received_on=SEPT_17,
    )
    assert "L'exemplaire papier s'enregistre pour un dossier déposé." in text(response)
    assert not PaperCopy.objects.exists()
    with pytest.raises(DomainError, match="dossier déposé"):
        followup.record_paper_copy(
            complete_dossier,
            by=instructeur,
            method="mail",
            postmarked_on=SEPT_17,
            received_on=SEPT_17,
        )


def test_the_candidate_sees_whether_the_paper_copy_was_received(
    client_for, candidate, instructeur, deposited
):
    url = reverse("candidatures:dossier", args=[deposited.pk])
    before = text(client_for(candidate).get(url))
    assert "Exemplaire papier : pas encore enregistré par le Service IVE." in before
    post_paper_copy(
        client_for(instructeur),
        deposited,
        method="mail",
        postmarked_on=SEPT_17,
        received_on=dt.date(2024, 9, 19),
    )
    after = text(client_for(candidate).get(url))
    assert "Exemplaire papier : <strong>reçu le 19 septembre 2024</strong>" in after
    assert "pas encore enregistré" not in after


# --- Messages ---------------------------------------------------------------------------------


def test_a_staff_message_emails_the_members_of_the_organisation(
    client_for,
    candidate,
    instructeur,
    deposited,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    colleague = UserFactory(email="zoe@epci-exemple.test", roles=[Role.CANDIDAT])
    deposited.organisation.memberships.create(user=colleague)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(instructeur).post(
            reverse("candidatures:staff_message", args=[deposited.pk]),
            {"body": "Pouvez-vous préciser le lot visé ?"},
            follow=True,
        )
    assert "Le message est envoyé au candidat." in text(response)
    message = Message.objects.get()
    assert (message.author, message.from_staff) == (instructeur, True)
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [candidate.email, colleague.email]
    assert email.subject.endswith(f"Nouveau message sur un dossier ({deposited.call.reference})")
    url = f"http://testserver{reverse('candidatures:dossier', args=[deposited.pk])}"
    assert url in email.body
    assert url in email.alternatives[0][0]
    assert "Pouvez-vous préciser le lot visé ?" in email.body


def test_a_candidate_message_emails_the_instructeurs(
    client_for,
    candidate,
    instructeur,
    ddets_reader,
    deposited,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    second = UserFactory(email="bruno@isere.test", roles=[Role.INSTRUCTEUR])
    UserFactory(email="parti@isere.test", roles=[Role.INSTRUCTEUR], is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(candidate).post(
            reverse("candidatures:message", args=[deposited.pk]),
            {"body": "Le budget est-il à signer ?"},
            follow=True,
        )
    assert "Votre message est envoyé au Service IVE." in text(response)
    assert Message.objects.get().from_staff is False
    email = mailoutbox[0]
    assert len(mailoutbox) == 1
    assert email.to == [second.email, instructeur.email]
    url = f"http://testserver{reverse('candidatures:staff_dossier', args=[deposited.pk])}"
    assert url in email.body
    assert url in email.alternatives[0][0]


def test_the_conversation_is_kept_in_order_on_both_sides(
    client_for, candidate, instructeur, deposited
):
    turns = [
        (candidate, "candidatures:message", "Premier message du candidat"),
        (instructeur, "candidatures:staff_message", "Réponse du service"),
        (candidate, "candidatures:message", "Merci, voici la précision"),
    ]
    for author, name, body in turns:
        client_for(author).post(reverse(name, args=[deposited.pk]), {"body": body})
    assert list(deposited.messages.values_list("body", flat=True)) == [b for _a, _n, b in turns]
    for user, name in [
        (candidate, "candidatures:dossier"),
        (instructeur, "candidatures:staff_dossier"),
    ]:
        page = text(client_for(user).get(reverse(name, args=[deposited.pk])))
        positions = [page.index(body) for _a, _n, body in turns]
        assert positions == sorted(positions), name
        staff_card = page[: page.index("Réponse du service")]
        assert staff_card.rindex("Service IVE –") > staff_card.rindex(str(candidate))


@pytest.mark.parametrize(
    ("persona", "name"),
    [("instructeur", "candidatures:staff_message"), ("candidate", "candidatures:message")],
)
def test_an_empty_message_is_refused(
    request, client_for, deposited, mailoutbox, django_capture_on_commit_callbacks, persona, name
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(request.getfixturevalue(persona)).post(
            reverse(name, args=[deposited.pk]), {"body": "  \n "}, follow=True
        )
    assert "Écrivez votre message." in text(response)
    assert not Message.objects.exists()
    assert mailoutbox == []
    with pytest.raises(DomainError, match="Écrivez votre message"):
        followup.post_message(deposited, by=request.getfixturevalue(persona), body=" ")


# --- Requests for missing pieces --------------------------------------------------------------


@pytest.fixture
def three_pieces(call, complete_dossier, candidate):
    """The deposited dossier with a file for each of its three pieces."""
    with as_draft(call):
        statutes = RequiredDocument.objects.create(
            call=call, position=3, label="Statuts", allowed_formats=["pdf"], mandatory=False
        )
    budget = call.required_documents.get(label="Budgets prévisionnels")
    services.add_document(complete_dossier, budget, by=candidate, uploaded=xlsx_file())
    services.add_document(
        complete_dossier, statutes, by=candidate, uploaded=pdf_file("statuts.pdf")
    )
    submit(complete_dossier, candidate)
    return {
        "application": call.required_documents.get(mandatory=True),
        "budget": budget,
        "statutes": statutes,
    }


def ask_for(client, dossier, pieces, *, due=None, message="Merci de fournir la version signée."):
    due = due or timezone.localtime() + dt.timedelta(days=5)
    return client.post(
        reverse("candidatures:piece_request", args=[dossier.pk]),
        {
            "required_documents": [piece.pk for piece in pieces],
            "message": message,
            "due_date": due.date().isoformat(),
            "due_time": "17:00",
        },
        follow=True,
    )


def upload(client, dossier, piece, uploaded):
    url = reverse("candidatures:upload", args=[dossier.pk, piece.pk])
    return client.post(url, {"file": uploaded}, follow=True)


LOCKED = "Ce dossier est déposé : il ne peut plus être modifié."


def test_asking_for_pieces_emails_the_members(
    client_for,
    candidate,
    instructeur,
    complete_dossier,
    three_pieces,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    colleague = UserFactory(email="zoe@epci-exemple.test", roles=[Role.CANDIDAT])
    complete_dossier.organisation.memberships.create(user=colleague)
    due = timezone.localtime() + dt.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask_for(
            client_for(instructeur), complete_dossier, [three_pieces["application"]], due=due
        )
    assert "La demande de pièces est envoyée au candidat." in text(response)
    piece_request = PieceRequest.objects.get()
    assert piece_request.due_at == local_datetime(due.date(), dt.time(17, 0))
    assert list(piece_request.required_documents.all()) == [three_pieces["application"]]
    assert piece_request.created_by == instructeur
    email = mailoutbox[0]
    assert len(mailoutbox) == 1
    assert email.to == [candidate.email, colleague.email]
    url = f"http://testserver{reverse('candidatures:documents', args=[complete_dossier.pk])}"
    assert url in email.body
    assert url in email.alternatives[0][0]
    assert "- Dossier de demande de financement" in email.body
    assert "Budgets" not in email.body
    assert "Merci de fournir la version signée." in email.body
    assert flat(
        date_format(
            piece_request.due_at.astimezone(timezone.get_current_timezone()), "DATETIME_FORMAT"
        )
    ) in flat(email.body)


def test_only_the_requested_pieces_reopen_until_the_due_date(
    client_for, candidate, instructeur, complete_dossier, three_pieces
):
    ask_for(client_for(instructeur), complete_dossier, [three_pieces["application"]])
    due_at = PieceRequest.objects.get().due_at
    client = client_for(candidate)
    pieces_page = text(client.get(reverse("candidatures:documents", args=[complete_dossier.pk])))
    assert "Pièces demandées par le Service IVE" in pieces_page
    for name, piece in three_pieces.items():
        action = reverse("candidatures:upload", args=[complete_dossier.pk, piece.pk])
        assert (action in pieces_page) is (name == "application"), name

    # The requested piece is replaced.
    response = upload(client, complete_dossier, three_pieces["application"], pdf_file("signe.pdf"))
    assert "« signe.pdf » est enregistré." in text(response)
    assert (
        complete_dossier.documents.get(required_document=three_pieces["application"]).original_name
        == "signe.pdf"
    )

    # Any other piece, and the answers, stay locked.
    before = sorted(complete_dossier.documents.values_list("pk", "original_name"))
    refused = [
        upload(client, complete_dossier, three_pieces["budget"], xlsx_file("autre.xlsx")),
        upload(client, complete_dossier, three_pieces["statutes"], pdf_file("statuts-2.pdf")),
        client.post(
            reverse(
                "candidatures:delete_document",
                args=[
                    complete_dossier.pk,
                    complete_dossier.documents.get(required_document=three_pieces["budget"]).pk,
                ],
            ),
            follow=True,
        ),
    ]
    for index, response in enumerate(refused):
        assert LOCKED in text(response), index
    questions = complete_dossier.call.form_questions
    summary = questions.get(label="Résumé du projet")
    lots_question, amount = questions.get(kind="lots"), questions.get(kind="amount")
    response = client.post(
        reverse("candidatures:answers", args=[complete_dossier.pk]),
        {
            f"q{summary.pk}": "Autre chose",
            f"q{lots_question.pk}": [complete_dossier.call.lots.first().pk],
            f"q{amount.pk}": "25000",
        },
    )
    assert response.status_code == 409
    assert LOCKED in text(response)
    assert (
        complete_dossier.answers.get(question=summary).value
        == "Co-animer le réseau des facilitateurs."
    )
    assert sorted(complete_dossier.documents.values_list("pk", "original_name")) == before

    # After the due date, the requested piece is locked again.
    with time_machine.travel(due_at + dt.timedelta(seconds=1), tick=False):
        client = client_for(candidate)  # sessions last 8 hours
        response = upload(
            client, complete_dossier, three_pieces["application"], pdf_file("tard.pdf")
        )
        assert LOCKED in text(response)
        pieces_page = text(
            client.get(reverse("candidatures:documents", args=[complete_dossier.pk]))
        )
        assert "/envoyer/" not in pieces_page
    assert not complete_dossier.documents.filter(original_name="tard.pdf").exists()


def test_a_requested_piece_is_received_after_the_call_has_closed(
    client_for, candidate, instructeur, complete_dossier, three_pieces
):
    # The usual case: the Service IVE reads dossiers after the deadline.
    now = timezone.now()
    type(complete_dossier.call).objects.filter(pk=complete_dossier.call_id).update(
        opens_at=now - dt.timedelta(days=40), deadline=now - dt.timedelta(days=1), status="closed"
    )
    ask_for(client_for(instructeur), complete_dossier, [three_pieces["application"]])
    client = client_for(candidate)
    response = upload(client, complete_dossier, three_pieces["application"], pdf_file("signe.pdf"))
    assert "« signe.pdf » est enregistré." in text(response)
    response = upload(client, complete_dossier, three_pieces["statutes"], pdf_file("autres.pdf"))
    assert LOCKED in text(response)
    assert sorted(complete_dossier.documents.values_list("original_name", flat=True)) == [
        "budget.xlsx",
        "signe.pdf",
        "statuts.pdf",
    ]


def test_closing_a_request_locks_its_pieces_again(
    client_for, candidate, instructeur, complete_dossier, three_pieces
):
    staff = client_for(instructeur)
    ask_for(staff, complete_dossier, [three_pieces["application"]])
    piece_request = PieceRequest.objects.get()
    response = staff.post(
        reverse("candidatures:close_piece_request", args=[complete_dossier.pk, piece_request.pk]),
        follow=True,
    )
    assert "La demande de pièces est close." in text(response)
    assert '<span class="badge text-bg-secondary">close</span>' in text(response)
    piece_request.refresh_from_db()
    assert piece_request.closed_at is not None
    client = client_for(candidate)
    response = upload(client, complete_dossier, three_pieces["application"], pdf_file("signe.pdf"))
    assert LOCKED in text(response)
    assert "Le Service IVE vous demande des pièces" not in text(
        client.get(reverse("candidatures:dossier", args=[complete_dossier.pk]))
    )


def test_a_request_is_closed_only_through_its_own_dossier(
    client_for, instructeur, deposited, listed_dossiers
):
    client = client_for(instructeur)
    ask_for(client, deposited, [deposited.call.required_documents.get(mandatory=True)])
    piece_request = PieceRequest.objects.get()
    other = listed_dossiers["Bravo"]
    response = client.post(
        reverse("candidatures:close_piece_request", args=[other.pk, piece_request.pk])
    )
    assert response.status_code == 404
    piece_request.refresh_from_db()
    assert piece_request.closed_at is None


def test_a_due_date_in_the_past_is_refused(
    client_for,
    instructeur,
    complete_dossier,
    three_pieces,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask_for(
            client_for(instructeur),
            complete_dossier,
            [three_pieces["application"]],
            due=timezone.localtime() - dt.timedelta(days=1),
        )
    assert "La date limite de la demande doit être dans le futur." in text(response)
    assert not PieceRequest.objects.exists()
    assert mailoutbox == []


def test_a_request_on_a_draft_is_refused(client_for, instructeur, complete_dossier):
    response = ask_for(
        client_for(instructeur),
        complete_dossier,
        [complete_dossier.call.required_documents.get(mandatory=True)],
    )
    assert "Les pièces manquantes se demandent sur un dossier déposé." in text(response)
    assert not PieceRequest.objects.exists()


def test_a_request_without_pieces_or_for_another_call_is_refused(
    client_for, instructeur, deposited
):
    client = client_for(instructeur)
    other_piece = ready_call().required_documents.get()
    for pieces in [[], [other_piece]]:
        response = ask_for(client, deposited, pieces)
        assert "La demande est incomplète : pièces, message et date." in text(response)
    assert not PieceRequest.objects.exists()


# --- Verifying a receipt ----------------------------------------------------------------------


def test_staff_compare_the_receipt_with_the_stored_files(
    client_for, instructeur, ddets_reader, deposited
):
    receipt = deposited.receipts.get()
    url = reverse("candidatures:verify_receipt", args=[receipt.token])
    assert url == f"/r/{receipt.token}/"
    for user in [instructeur, ddets_reader]:
        response = client_for(user).get(url)
        page = text(response)
        assert f"Accusé de réception n° {receipt.number}" in page
        assert "Cet accusé est authentique et en vigueur." in page
        assert deposited.organisation.siret in page
        assert table_rows(response) == [
            [
                "Dossier de demande de financement",
                "dossier.pdf",
                str(len(PDF)),
                hashlib.sha256(PDF).hexdigest(),
                "oui",
            ]
        ]


def test_a_file_replaced_after_the_receipt_is_no_longer_identical(
    client_for, candidate, instructeur, deposited
):
    receipt = deposited.receipts.get()
    ask_for(
        client_for(instructeur), deposited, [deposited.call.required_documents.get(mandatory=True)]
    )
    upload(
        client_for(candidate),
        deposited,
        deposited.call.required_documents.get(mandatory=True),
        pdf_file("dossier.pdf", modeles.sample_pdf("Version signée", ["Autre contenu"])),
    )
    response = client_for(instructeur).get(
        reverse("candidatures:verify_receipt", args=[receipt.token])
    )
    assert table_rows(response)[0][-1] == "non"


def test_a_superseded_receipt_says_so(client_for, candidate, instructeur, deposited):
    receipt = deposited.receipts.get()
    services.withdraw_candidature(deposited, by=candidate, received_at=timezone.now())
    page = text(
        client_for(instructeur).get(reverse("candidatures:verify_receipt", args=[receipt.token]))
    )
    assert "Cet accusé a été remplacé le" in page
    assert "authentique et en vigueur" not in page


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("candidate", 403), ("other_candidate", 403), ("anonymous", 302)],
)
def test_candidates_and_visitors_cannot_verify_a_receipt(
    request, client_for, deposited, persona, expected
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    receipt = deposited.receipts.get()
    response = client_for(user).get(reverse("candidatures:verify_receipt", args=[receipt.token]))
    assert response.status_code == expected
    assert deposited.organisation.siret not in response.content.decode()
    if persona == "anonymous":
        assert response.url.startswith(reverse("accounts:login"))


def test_an_unknown_receipt_token_is_not_found(client_for, instructeur, deposited):
    response = client_for(instructeur).get(reverse("candidatures:verify_receipt", args=["inconnu"]))
    assert response.status_code == 404


def test_the_list_is_paginated_and_keeps_its_filters(client_for, instructeur, call):
    from candidatures.models import Organisation

    for index in range(53):
        organisation = Organisation.objects.create(
            name=f"Structure {index:02d}",
            kind="epci",
            siret=_siret(5000 + index),
            address="1 rue",
            postal_code="38000",
            city="Grenoble",
            legal_representative_name="X",
            legal_representative_role="Président",
            legal_representative_email="x@exemple.test",
        )
        Candidature.objects.create(call=call, organisation=organisation)
    client = client_for(instructeur)
    url = reverse("candidatures:staff_dossiers", args=[call.pk])
    first = client.get(url, {"status": "draft"})
    assert len(first.context["dossiers"]) == 50
    assert "53 dossiers – page 1 sur 2" in text(first)
    assert "?status=draft&amp;page=2" in first.content.decode()
    second = client.get(url, {"status": "draft", "page": 2})
    assert len(second.context["dossiers"]) == 3
