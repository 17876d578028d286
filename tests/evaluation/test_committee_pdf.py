"""The committee record (procès-verbal) and the ranking's PDF, read back with pdftotext as
their readers would: every column, every dossier's decision, the meeting, the members
present and their declarations, the quorum and the signatures; a 40-dossier lot over
several A4 landscape pages with its header on each and no dossier split; and the record's
SHA-256, stored when it is frozen, which later edits never change."""

import datetime as dt
import hashlib
import re
import subprocess
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from candidatures.models import Candidature
from evaluation import committee, exports, services
from evaluation.committee import freeze_committee
from evaluation.models import (
    Admissibility,
    Assignment,
    Decision,
    Evaluation,
    Interests,
    Justification,
    Score,
    Seat,
)
from evaluation.states import ConflictStatus, DecisionOutcome, EvaluationStatus
from tests.evaluation.conftest import close, score, submitted_dossier
from tests.evaluation.meetings import quorate_meeting
from tests.factories import OrganisationFactory
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db

# A Tuesday of December, winter time: « 9 décembre 2025 à 14h30 ».
INSTANT = dt.datetime(2025, 12, 9, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
E1 = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}  # 81.25
E2 = {"A1": 3, "A2": 1, "B1": 2, "C1": 3, "C2": 2}  # 53.125
E3 = {"A1": 2, "A2": 2, "B1": 2, "C1": 2, "C2": 2}  # 50
# Every header of the PDF's table: the export's columns, the criteria as C1… (named in
# full in the legend above the table).
HEADERS = [
    "Rang",
    "Structure",
    "SIRET",
    "Type",
    "C1 (/40)",
    "C2 (/35)",
    "C3 (/25)",
    "Moyenne (/100)",
    "Consensus (/100)",
    "Note retenue (/100)",
    "Note retenue (/20)",
    "Évaluations",
    "Note min.",
    "Note max.",
    "Écart signalé",
    "Montant sollicité (€)",
    "Avis DDETS",
    "Décision",
    "Montant attribué (€)",
    "ETP attribués",
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(INSTANT, tick=True):
        yield


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page (pdftotext separates them with a form feed), in the order the
    text is drawn, whitespace collapsed."""
    out = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return [" ".join(page.split()) for page in out.split("\f") if page.strip()]


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


@pytest.fixture
def decided(graded_call, lot, instructeur, evaluators, ddets_reader):
    """Three dossiers of the lot scored, the DDETS's opinions, a consensus and the three
    outcomes; a fourth dossier on the call's other lot, scored."""
    names = ["Communauté de communes du Grésivaudan", "GIP Bêta", "Association Gamma"]
    dossiers = [submitted_dossier(graded_call, name, lot=lot) for name in names]
    other = graded_call.lots.exclude(pk=lot.pk).get()
    dossiers.append(submitted_dossier(graded_call, "Régie Delta", lot=other))
    close(graded_call)
    for dossier in dossiers:
        dossier.refresh_from_db()
        services.decide_admissibility(dossier, by=instructeur, admissible=True)
    alpha, beta, gamma, delta = dossiers
    score(alpha, evaluators[0], by_instructeur=instructeur, points=E1)
    score(alpha, evaluators[1], by_instructeur=instructeur, points=E3)
    score(beta, evaluators[0], by_instructeur=instructeur, points=E2)
    score(gamma, evaluators[1], by_instructeur=instructeur, points=E3)
    score(delta, evaluators[0], by_instructeur=instructeur, points=E2)
    services.set_consensus(alpha, by=instructeur, total=Decimal("70"), reason="Harmonisation")
    services.record_opinion(alpha, by=ddets_reader, kind="favourable", comment="")
    services.record_opinion(beta, by=ddets_reader, kind="unfavourable", comment="")
    services.record_decision(
        alpha,
        lot,
        by=instructeur,
        outcome=DecisionOutcome.SELECTED,
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
    )
    services.record_decision(beta, lot, by=instructeur, outcome=DecisionOutcome.WAITING_LIST)
    services.record_decision(
        gamma,
        lot,
        by=instructeur,
        outcome=DecisionOutcome.NOT_SELECTED,
        reason="Territoire déjà couvert",
    )
    return alpha, beta, gamma, delta


@pytest.fixture
def meeting(graded_call, instructeur, decided):
    meeting = quorate_meeting(graded_call, by=instructeur, place="Hôtel du Département, Grenoble")
    committee.save_member(
        meeting,
        by=instructeur,
        name="Laure Liée",
        organisation="Maison de l'emploi",
        role="Directrice",
        seat=Seat.MEMBER,
        is_ddets=False,
        user=None,
        interests=Interests.DECLARED,
        dossiers=[decided[1]],
        nature="Administratrice du GIP",
    )
    return meeting


def stored(record) -> bytes:
    with record.pdf.open("rb") as handle:
        return handle.read()


def test_the_record_holds_every_column_the_meeting_the_decisions_and_the_signatures(
    graded_call, lot, instructeur, decided, meeting
):
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    text = pdf_text(stored(record), order="raw")

    for header in HEADERS:
        assert header in text, header
    for criterion, weight in (("A", 40), ("B", 35), ("C", 25)):
        assert f"{criterion} (sur {weight} points)" in text
    # The meeting, its members (the DDETS among them) and their declarations.
    assert "Le comité de sélection s'est réuni le 9 décembre 2025 à 14h30, " in text
    assert "Hôtel du Département, Grenoble" in text
    for name in ("Claire Présidente", "Samuel Secrétaire", "Diane État", "Laure Liée"):
        assert name in text
    assert "Diane État DDETS DDETS de l'Isère" in text
    assert "Lien déclaré avec : GIP Bêta – Administratrice du GIP" in text
    assert text.count("Aucun lien d'intérêts") == 3
    assert "Quorum atteint : 4 membres présents, dont 1 représentant de la DDETS" in text
    assert "au moins 3 membres présents, dont un représentant de la DDETS" in text
    # Each dossier's decision, in the table and in the list of decisions.
    assert "Retenu" in text and "Liste d'attente" in text and "Non retenu" in text
    assert "Communauté de communes du Grésivaudan Retenu 24 500,00 € 0,5" in text
    assert "GIP Bêta Liste d'attente — —" in text
    assert "Association Gamma Non retenu — — Territoire déjà couvert" in text
    # Scores as the ranking shows them: the consensus ranks alpha first.
    assert "70,00" in text and "65,63" in text and "Favorable" in text
    # The signature block, with the names from the meeting.
    assert "Le président de séance Claire Présidente" in text
    assert "Le secrétaire de séance Samuel Secrétaire" in text


def test_the_draft_ranking_pdf_holds_every_column_and_decision(
    graded_call, lot, instructeur, decided, client_for
):
    response = client_for(instructeur).get(
        reverse("evaluation:ranking_export", args=[graded_call.pk, lot.pk, "pdf"])
    )
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = pdf_text(content, order="raw")
    for header in HEADERS:
        assert header in text, header
    assert "Classement (document de travail)" in text
    assert "Retenu" in text and "Liste d'attente" in text and "Non retenu" in text
    assert "Décisions enregistrées à ce jour" in text
    # No meeting nor signature on a working document.
    assert "Le président de séance" not in text


def test_every_page_is_a4_landscape(graded_call, lot, instructeur, decided, meeting):
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    info = subprocess.run(
        ["pdfinfo", "-"], input=stored(record), capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"Page size: +841\.89 x 595\.2\d* pts \(A4\)", info), info


# --- A long lot -------------------------------------------------------------------------------


def forty_dossiers(call, lot, instructeur, evaluators):
    """40 admissible dossiers of ``lot``, each scored by two evaluators and decided, with
    a granted amount unique to it (10 001 €, 10 002 €…) to find its second line."""
    close(call)
    services.lock_grid(call)
    subs = list(call.criteria.values_list("subcriteria", flat=True))
    criteria = list(call.criteria.all())
    now = timezone.now()
    dossiers = []
    for n in range(40):
        dossier = Candidature.objects.create(
            call=call,
            organisation=OrganisationFactory(name=f"Structure numéro {n + 1:02d}"),
            requested_amount=Decimal("20000") + n,
        )
        Candidature.objects.filter(pk=dossier.pk).update(status="submitted", submitted_at=now)
        dossier.lots.set([lot])
        Admissibility.objects.create(
            candidature=dossier, outcome="admissible", decided_by=instructeur
        )
        for rank, evaluator in enumerate(evaluators):
            assignment = Assignment.objects.create(
                candidature=dossier,
                evaluator=evaluator,
                assigned_by=instructeur,
                conflict=ConflictStatus.NONE,
                declared_at=now,
            )
            evaluation = Evaluation.objects.create(
                assignment=assignment,
                status=EvaluationStatus.SUBMITTED,
                submitted_at=now,
                total=Decimal(40 + n),
            )
            Score.objects.bulk_create(
                Score(evaluation=evaluation, subcriterion_id=sub, value=(n + rank + i) % 5)
                for i, sub in enumerate(subs)
            )
            Justification.objects.bulk_create(
                Justification(evaluation=evaluation, criterion=c, text="Motivé") for c in criteria
            )
        Decision.objects.create(
            candidature=dossier,
            lot=lot,
            outcome=DecisionOutcome.SELECTED,
            amount_granted=Decimal("10001") + n,
            fte_granted=Decimal("0.1"),
            decided_by=instructeur,
        )
        dossiers.append(dossier)
    return dossiers


def test_a_40_dossier_lot_spans_pages_with_its_header_on_each_and_no_dossier_split(
    graded_call, lot, instructeur, evaluators
):
    dossiers = forty_dossiers(graded_call, lot, instructeur, evaluators)
    meeting = quorate_meeting(graded_call, by=instructeur)
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    pages = pdf_pages(stored(record))

    # The table's pages: those before the list of decisions starts.
    table_pages = []
    for page in pages:
        table_pages.append(page.split("Décisions du comité")[0])
        if "Décisions du comité" in page:
            break
    assert len(table_pages) >= 3, len(table_pages)
    for number, page in enumerate(table_pages, start=1):
        if "Structure numéro" not in page:
            continue
        # The two header lines, once on every page that holds dossiers.
        for header in ("Note retenue (/20)", "Montant sollicité (€)", "ETP attribués"):
            assert page.count(header) == 1, (number, header)
    # Each dossier's two lines on one page: its name (first line) and its own granted
    # amount (second line).
    for n, dossier in enumerate(dossiers):
        name, amount = dossier.organisation.name, f"{10001 + n:,},00 €".replace(",", " ", 1)
        holding = [i for i, page in enumerate(table_pages) if name in page]
        assert len(holding) == 1, (name, holding)
        assert amount in table_pages[holding[0]], (name, amount, holding)
    # Every dossier appears, and its decision.
    text = " ".join(pages)
    assert text.count("Retenu") >= 40


# --- The SHA-256 --------------------------------------------------------------------------------


def test_the_stored_sha256_is_the_files_and_later_edits_never_change_it(
    graded_call, lot, instructeur, ddets_reader, decided, meeting, evaluators, client_for
):
    record = freeze_committee(graded_call, lot, by=instructeur, meeting=meeting)
    content = stored(record)
    assert record.sha256 == hashlib.sha256(content).hexdigest()

    # Later edits: a dossier of the other lot harmonised, opinions revised, then that
    # lot's record frozen at a second meeting.
    other, delta = graded_call.lots.exclude(pk=lot.pk).get(), decided[3]
    services.set_consensus(delta, by=instructeur, total=Decimal("75"), reason="Réunion")
    services.record_opinion(delta, by=ddets_reader, kind="reserved", comment="Revu")
    services.record_opinion(decided[1], by=ddets_reader, kind="favourable", comment="Revu")
    second = freeze_committee(
        graded_call, other, by=instructeur, meeting=quorate_meeting(graded_call, by=instructeur)
    )

    record.refresh_from_db()
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert stored(record) == content
    assert second.sha256 == hashlib.sha256(stored(second)).hexdigest() != record.sha256
    # The ranking page shows each record's hash beside it, from the stored field.
    page = client_for(ddets_reader).get(
        reverse("evaluation:ranking", args=[graded_call.pk, lot.pk])
    )
    assert record.sha256 in page.content.decode()
    # The downloaded file is the stored one, byte for byte.
    response = client_for(ddets_reader).get(
        reverse("evaluation:committee_record_download", args=[record.pk])
    )
    assert b"".join(response.streaming_content) == content


def test_the_pdf_table_has_two_lines_per_dossier_whatever_the_criteria(
    graded_call, lot, instructeur, decided
):
    layout = exports.pdf_layout(exports.ranking_table(lot))
    first_width = sum(cell.span for cell in layout.head[0])
    for first, second in layout.dossiers:
        assert sum(c.span for c in first) == first_width
        # Line 2 lies under every column but the rank, which spans both lines.
        assert sum(c.span for c in second) == first_width - 1
    assert [c.text for c in layout.head[1]] == HEADERS[3:4] + HEADERS[-5:]
