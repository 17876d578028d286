"""The dossier list a service uses every day: search, sort, export, bulk actions, and a
query count that does not grow with the dossiers, answers or messages."""

import csv
import html
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from candidatures import followup
from candidatures.models import Answer, Candidature, Message, Organisation, Receipt
from candidatures.states import CandidatureStatus
from core.roles import Role
from evaluation.models import Admissibility, Assignment, Consensus
from evaluation.states import AdmissibilityOutcome
from tests.candidatures.test_staff import dossier_for, submit, table_rows
from tests.factories import UserFactory, _siret, dossier_ready_call


def url(call, **kwargs):
    return reverse("candidatures:staff_dossiers", args=[call.pk])


def names(client, call, **params) -> list[str]:
    response = client.get(url(call), params)
    assert response.status_code == 200
    return [row[0] for row in table_rows(response) if len(row) > 1]


@pytest.fixture
def three(call, instructeur):
    """Three dossiers, two deposited, one with an answer that names the Vercors."""
    alpha = dossier_for(call, "Communauté de communes Alpha", "epci")
    bravo = dossier_for(call, "Association Bravo", "association", lots=(1,))
    charlie = dossier_for(call, "GIP Charlie", "gip")
    submit(alpha, alpha.created_by)
    submit(bravo, bravo.created_by)
    summary = call.form_questions.get(label="Résumé du projet")
    charlie_answer = Answer.objects.get(candidature=charlie, question=summary)
    Answer.objects.filter(pk=charlie_answer.pk).update(
        value="Accompagnement des communautés du Vercors et du Trièves."
    )
    return {"alpha": alpha, "bravo": bravo, "charlie": charlie}


# --- Search ------------------------------------------------------------------------------------


def test_search_finds_a_dossier_by_part_of_its_name(client_for, instructeur, call, three):
    assert names(client_for(instructeur), call, q="bravo") == ["Association Bravo"]


def test_search_finds_a_dossier_by_part_of_its_siret_typed_with_spaces(
    client_for, instructeur, call, three
):
    siret = three["alpha"].organisation.siret
    typed = f"{siret[:3]} {siret[3:6]} {siret[6:9]}"  # « 210 000 009 », as on a letterhead
    assert names(client_for(instructeur), call, q=typed) == ["Communauté de communes Alpha"]


def test_search_finds_a_dossier_by_its_receipt_number(client_for, instructeur, call, three):
    number = Receipt.objects.get(candidature=three["bravo"]).number
    assert names(client_for(instructeur), call, q=number) == ["Association Bravo"]


def test_search_reads_the_answers_in_french(client_for, instructeur, call, three):
    client = client_for(instructeur)
    assert names(client, call, q="vercors") == ["GIP Charlie"]
    # The French configuration: « communauté » finds the answer's « communautés », and the
    # name « Communauté de communes Alpha ».
    assert names(client, call, q="communauté") == ["Communauté de communes Alpha", "GIP Charlie"]


def test_a_search_that_finds_nothing_says_so(client_for, instructeur, call, three):
    response = client_for(instructeur).get(url(call), {"q": "introuvable"})
    assert "Aucun dossier ne correspond." in response.content.decode()
    assert "0 dossier" in response.content.decode()


def test_search_combines_with_the_filters(client_for, instructeur, call, three):
    client = client_for(instructeur)
    assert names(client, call, q="communauté", status="draft") == ["GIP Charlie"]


# --- Sort --------------------------------------------------------------------------------------


def _score(dossier, total, by):
    Admissibility.objects.create(
        candidature=dossier, outcome=AdmissibilityOutcome.ADMISSIBLE, decided_by=by
    )
    Consensus.objects.create(candidature=dossier, total=Decimal(total), reason="Comité", set_by=by)


def test_sorting_by_score_puts_the_best_first_and_the_unscored_last(
    client_for, instructeur, call, three
):
    _score(three["alpha"], "62.5", instructeur)
    _score(three["bravo"], "81", instructeur)
    client = client_for(instructeur)
    assert names(client, call, tri="-note") == [
        "Association Bravo",
        "Communauté de communes Alpha",
        "GIP Charlie",
    ]
    assert names(client, call, tri="note") == [
        "Communauté de communes Alpha",
        "Association Bravo",
        "GIP Charlie",
    ]
    rows = {row[0]: row for row in table_rows(client.get(url(call), {"tri": "-note"}))}
    assert rows["Association Bravo"][-2:] == ["Recevable", "81,00"]


def test_sorting_by_receipt_and_last_message(client_for, instructeur, call, three):
    client = client_for(instructeur)
    by_receipt = names(client, call, tri="recepisse")
    first, second = (
        Receipt.objects.filter(candidature__call=call)
        .order_by("number")
        .values_list("candidature__organisation__name", flat=True)
    )
    assert by_receipt == [first, second, "GIP Charlie"]  # no receipt: last, either way
    assert names(client, call, tri="-recepisse")[-1] == "GIP Charlie"
    followup.post_message(three["charlie"], by=instructeur, body="Votre dossier ?")
    assert names(client, call, tri="-message")[0] == "GIP Charlie"


def test_the_header_links_toggle_the_order_and_keep_the_filters(
    client_for, instructeur, call, three
):
    response = client_for(instructeur).get(url(call), {"tri": "note", "status": "submitted"})
    page = response.content.decode()
    assert 'aria-sort="ascending"' in page
    assert "?status=submitted&amp;tri=-note" in page  # the current column, reversed
    assert "?status=submitted&amp;tri=structure" in page
    # Filtering again keeps the order.
    assert '<input type="hidden" name="tri" value="note">' in page


def test_an_unknown_sort_falls_back_to_the_name(client_for, instructeur, call, three):
    assert names(client_for(instructeur), call, tri="'; drop table") == [
        "Association Bravo",
        "Communauté de communes Alpha",
        "GIP Charlie",
    ]


# --- Export ------------------------------------------------------------------------------------

COLUMNS = [
    "Structure",
    "SIRET",
    "Type",
    "Lots",
    "N° d'accusé de réception",
    "Statut",
    "Déposé le",
    "Complet",
    "Pièces",
    "Exemplaire papier",
    "Dernier message",
    "Recevabilité",
    "Note /100",
]


def _export(client, call, fmt, **params):
    response = client.get(
        reverse("candidatures:staff_dossiers_export", args=[call.pk, fmt]), params
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return response.content


def test_the_csv_export_holds_every_column_and_the_rows_as_filtered_and_sorted(
    client_for, instructeur, call, three
):
    _score(three["alpha"], "62.5", instructeur)
    content = _export(client_for(instructeur), call, "csv", status="submitted", tri="-note")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == COLUMNS
    assert [row[0] for row in rows[1:]] == ["Communauté de communes Alpha", "Association Bravo"]
    alpha = rows[1]
    assert alpha[1] == three["alpha"].organisation.siret
    assert alpha[4] == Receipt.objects.get(candidature=three["alpha"]).number
    assert (alpha[5], alpha[7], alpha[11], alpha[12]) == ("Déposé", "oui", "Recevable", "62,50")


def test_the_xlsx_export_holds_the_same_rows_as_the_page(client_for, instructeur, call, three):
    client = client_for(instructeur)
    content = _export(client, call, "xlsx", q="communauté")
    sheet = load_workbook(io.BytesIO(content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == COLUMNS
    assert [row[0] for row in values[1:]] == names(client, call, q="communauté")
    assert values[1][1] == three["alpha"].organisation.siret  # kept as text, not a number


def test_exported_cells_never_run_as_formulas(client_for, instructeur, call, three):
    Organisation.objects.filter(pk=three["bravo"].organisation_id).update(
        name='=HYPERLINK("http://evil.test","Cliquez")'
    )
    client = client_for(instructeur)
    text = _export(client, call, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    sheet = load_workbook(io.BytesIO(_export(client, call, "xlsx"))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    hostile = next(cell for cell in cells if "HYPERLINK" in str(cell.value))
    assert hostile.data_type == "s" and not str(hostile.value).startswith("=")


@pytest.mark.parametrize("persona", ["candidate", "evaluator"])
def test_the_export_is_refused_outside_the_staff(request, client_for, call, three, persona):
    client = client_for(request.getfixturevalue(persona))
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("candidatures:staff_dossiers_export", args=[call.pk, fmt]))
        assert response.status_code == 403


def test_an_unknown_export_format_is_not_found(client_for, instructeur, call, three):
    response = client_for(instructeur).get(
        reverse("candidatures:staff_dossiers_export", args=[call.pk, "exe"])
    )
    assert response.status_code == 404


# --- Bulk actions -------------------------------------------------------------------------------


def _bulk(client, call, **data):
    return client.post(reverse("candidatures:staff_dossiers_bulk", args=[call.pk]), data)


def test_a_message_to_the_ticked_dossiers_reaches_each_and_a_double_click_sends_once(
    client_for, instructeur, call, three, django_capture_on_commit_callbacks
):
    client = client_for(instructeur)
    ticked = [three["alpha"].pk, three["bravo"].pk]
    data = {"action": "message", "dossiers": ticked, "message-body": "Comité le 3 octobre."}
    with django_capture_on_commit_callbacks(execute=True):
        first = _bulk(client, call, **data)
    assert "Message envoyé sur 2 dossiers." in client.get(first.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        second = _bulk(client, call, **data)
    assert "Ce message vient déjà d'être envoyé sur ces dossiers." in html.unescape(
        client.get(second.url).content.decode()
    )
    assert first.status_code == second.status_code == 302
    messages = Message.objects.filter(body="Comité le 3 octobre.")
    assert sorted(messages.values_list("candidature_id", flat=True)) == sorted(ticked)
    assert all(message.from_staff for message in messages)
    recipients = sorted(address for message in mail.outbox for address in message.to)
    members = sorted(
        three[key].created_by.email for key in ("alpha", "bravo")
    )  # one e-mail each, not two
    assert recipients == members


def test_a_bulk_action_without_a_ticked_dossier_or_text_is_refused(
    client_for, instructeur, call, three
):
    client = client_for(instructeur)
    response = _bulk(client, call, action="message", **{"message-body": "Bonjour"})
    assert "Cochez au moins un dossier." in client.get(response.url).content.decode()
    response = _bulk(client, call, action="message", dossiers=[three["alpha"].pk])
    assert "Ce champ est obligatoire." in client.get(response.url).content.decode()
    assert not Message.objects.exists()


def test_a_dossier_of_another_call_is_never_touched(client_for, instructeur, call, three):
    other = dossier_for(dossier_ready_call(), "Autre appel", "epci")
    client = client_for(instructeur)
    response = _bulk(
        client, call, action="message", dossiers=[other.pk], **{"message-body": "Bonjour"}
    )
    assert "Cochez au moins un dossier." in client.get(response.url).content.decode()
    assert not Message.objects.exists()


def test_the_ddets_and_candidates_cannot_run_bulk_actions(
    request, client_for, call, three, ddets_reader, candidate
):
    for user in (ddets_reader, candidate):
        response = _bulk(
            client_for(user),
            call,
            action="message",
            dossiers=[three["alpha"].pk],
            **{"message-body": "Bonjour"},
        )
        assert response.status_code == 403
    assert not Message.objects.exists()
    page = client_for(ddets_reader).get(url(call)).content.decode()
    assert "Actions sur les dossiers cochés" not in page


def test_assigning_an_evaluator_to_the_ticked_dossiers(client_for, instructeur, call, three):
    evaluator = UserFactory(roles=[Role.EVALUATEUR])
    for key in ("alpha", "bravo"):
        Admissibility.objects.create(
            candidature=three[key], outcome=AdmissibilityOutcome.ADMISSIBLE, decided_by=instructeur
        )
    client = client_for(instructeur)
    ticked = [three["alpha"].pk, three["bravo"].pk]
    response = _bulk(
        client, call, action="affecter", dossiers=ticked, **{"affecter-evaluator": evaluator.pk}
    )
    assert "Évaluateur affecté à 2 dossiers." in client.get(response.url).content.decode()
    assert sorted(
        Assignment.objects.filter(evaluator=evaluator).values_list("candidature_id", flat=True)
    ) == sorted(ticked)


def test_assigning_is_all_or_nothing_when_a_ticked_dossier_is_not_admissible(
    client_for, instructeur, call, three
):
    evaluator = UserFactory(roles=[Role.EVALUATEUR])
    Admissibility.objects.create(
        candidature=three["alpha"], outcome=AdmissibilityOutcome.ADMISSIBLE, decided_by=instructeur
    )
    client = client_for(instructeur)
    response = _bulk(
        client,
        call,
        action="affecter",
        dossiers=[three["alpha"].pk, three["bravo"].pk],
        **{"affecter-evaluator": evaluator.pk},
    )
    page = client.get(response.url).content.decode()
    assert "Seuls les dossiers recevables sont évalués ; décochez : Association Bravo." in page
    assert not Assignment.objects.exists()


# --- Query counts --------------------------------------------------------------------------------


def _many(call, count, start=0):
    """``count`` deposited dossiers, each with answers, a receipt and two messages."""
    member = UserFactory(roles=[Role.CANDIDAT])
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Structure {n:04d}",
            kind="association",
            siret=_siret(5000 + n),
            address="1 rue",
            postal_code="38000",
            city="Grenoble",
            legal_representative_name="X",
            legal_representative_role="Président",
            legal_representative_email="x@exemple.test",
        )
        for n in range(start, start + count)
    )
    now = timezone.now()
    dossiers = Candidature.objects.bulk_create(
        Candidature(
            call=call,
            organisation=organisation,
            created_by=member,
            status=CandidatureStatus.SUBMITTED,
            submitted_at=now,
        )
        for organisation in organisations
    )
    questions = list(call.form_questions.exclude(kind="lots"))
    Answer.objects.bulk_create(
        Answer(candidature=dossier, question=question, value="Le Vercors et le Trièves")
        for dossier in dossiers
        for question in questions
    )
    Receipt.objects.bulk_create(
        Receipt(
            candidature=dossier,
            call=call,
            sequence=start + n + 1,
            number=f"{call.reference}-{start + n + 1:04d}",
            submitted_at=now,
            submitted_by=member,
            manifest={},
            token=f"tok{call.pk}-{start + n}",
        )
        for n, dossier in enumerate(dossiers)
    )
    Message.objects.bulk_create(
        Message(candidature=dossier, author=member, body=f"Question {i}")
        for dossier in dossiers
        for i in range(2)
    )


def _queries(client, target, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(target, params)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("staff_dossiers", {}),
        ("staff_dossiers", {"q": "vercors", "tri": "-note"}),
        ("staff_dossiers", {"tri": "message", "status": "submitted"}),
        ("export_csv", {"q": "structure", "tri": "recepisse"}),
        ("export_xlsx", {"tri": "-depot"}),
    ],
)
def test_the_query_count_does_not_grow_with_the_dossiers(
    client_for, instructeur, call, name, params
):
    client = client_for(instructeur)
    if name == "staff_dossiers":
        target = url(call)
    else:
        target = reverse("candidatures:staff_dossiers_export", args=[call.pk, name[-4:].strip("_")])
    _many(call, 3)
    few = _queries(client, target, params)
    _many(call, 297, start=3)
    assert _queries(client, target, params) == few
