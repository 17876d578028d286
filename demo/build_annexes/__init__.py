"""Builds the annex templates committed in ``demo/annexes/`` (« modèles en annexe » of the
2024 call): real office files that candidates open in their word processor or spreadsheet,
and that libmagic recognises by their content. Their texts keep the calendar placeholders
``{year}``, ``{deadline}`` and ``{start}``; ``demo.modeles`` fills them for each call.

The platform reads the committed files; this package only makes them again, after a change
of their content: ``python -m demo.build_annexes``. The text documents come out byte for
byte the same each time (fixed dates and zip timestamps); a test checks that the committed
files are what it makes.
"""

from pathlib import Path

from demo.build_annexes.budget import budget_xlsx
from demo.build_annexes.office import attestation_docx, funding_request_docx, funding_request_odt

ANNEXES = Path(__file__).resolve().parent.parent / "annexes"

BUILDERS = {
    "dossier-de-demande-de-financement.docx": funding_request_docx,
    "dossier-de-demande-de-financement.odt": funding_request_odt,
    "attestation-d-engagement.docx": attestation_docx,
    "budgets-previsionnels.xlsx": budget_xlsx,
}


def build() -> dict[str, bytes]:
    return {name: make() for name, make in BUILDERS.items()}
