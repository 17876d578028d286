"""The record of the last automatic accessibility check, as the statement reads it.

``tests/browser/test_accessibility.py`` runs axe-core on the main screens of each persona;
run with ``AXE_RECORD=1``, it writes what it checked and found into ``axe-run.json``
beside this module, which is committed. The statement reads that file only: nothing runs
when the page is served. ``tests/core/test_legal_pages.py`` fails when the record no longer
covers exactly the screens the test checks.
"""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

RECORD_PATH = Path(__file__).resolve().parent / "axe-run.json"

# The personas of the accessibility test, as the statement names them.
PERSONAS = {
    "visiteur": _("Visiteur sans compte"),
    "candidat": _("Candidat (porteur de projet)"),
    "instructeur": _("Instructeur du Département"),
    "evaluateur": _("Évaluateur"),
    "ddets": _("Lecteur de la DDETS"),
}


@dataclass(frozen=True)
class CheckedPage:
    persona: str
    name: str
    path: str
    route: str
    violations: dict  # axe rule id → number of elements

    @property
    def shown_path(self):
        """The path visited, with the numbers of objects (which differ from one database to
        another) written « … »."""
        return "/".join(
            "…" if pattern.startswith("<int:") else part
            for pattern, part in zip(self.route.split("/"), self.path.split("/"), strict=False)
        )

    @property
    def elements(self):
        return sum(self.violations.values())


@dataclass(frozen=True)
class AxeRun:
    personas: dict  # persona → its checked pages, in the test's order
    checked_on: list  # the days the personas were checked, oldest first
    axe_versions: list
    browsers: list
    tags: list
    excluded: list

    @property
    def sections(self):
        """``(persona, its name, its pages)`` in the test's order."""
        return [
            (persona, PERSONAS.get(persona, persona), pages)
            for persona, pages in self.personas.items()
        ]

    @property
    def pages(self):
        return [page for pages in self.personas.values() for page in pages]

    @property
    def violations(self):
        return sum(len(page.violations) for page in self.pages)


def read():
    """The committed record, or None when there is none yet."""
    try:
        data = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    runs = data["personas"]
    ordered = [persona for persona in PERSONAS if persona in runs] + sorted(
        persona for persona in runs if persona not in PERSONAS
    )
    return AxeRun(
        personas={
            persona: [CheckedPage(persona=persona, **page) for page in runs[persona]["pages"]]
            for persona in ordered
        },
        checked_on=sorted({dt.date.fromisoformat(run["checked_on"]) for run in runs.values()}),
        axe_versions=sorted({run["axe_version"] for run in runs.values()}),
        browsers=sorted({run["browser"] for run in runs.values()}),
        tags=data["tags"],
        excluded=data["excluded"],
    )
