"""The record of an axe-core run that the accessibility statement shows
(``core/legal/axe-run.json``, read by ``core.legal.accessibility``).

``AXE_RECORD=1 pytest tests/browser/test_accessibility.py`` rewrites each persona's part
with what it checked and found, then the file is committed. Personas may run in parallel
(pytest-xdist): each one replaces its own part under an exclusive lock.
"""

import datetime as dt
import fcntl
import json
import os
from importlib.metadata import version
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.urls import resolve

from core.legal.accessibility import RECORD_PATH


def wanted():
    return os.environ.get("AXE_RECORD", "") not in ("", "0")


def route_of(path):
    """The URL pattern a path answers to, the same whatever the objects' numbers."""
    route = resolve(path.partition("?")[0]).route
    return "/" + route if not route.startswith("/") else route


def today():
    """The real day of the run: the journeys run on a frozen clock."""
    paris = ZoneInfo("Europe/Paris")
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.datetime.datetime.now(tz=paris).date()
    return dt.datetime.now(tz=paris).date()


def write(persona, pages, *, axe_version, browser, tags, excluded):
    """Replace ``persona``'s part of the record. ``pages``: dicts with name, path, route
    and violations (axe rule id → number of elements)."""
    lock_path = settings.VAR_DIR / "axe-run.lock"  # never removed: others may wait on it
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            personas = json.loads(RECORD_PATH.read_text(encoding="utf-8"))["personas"]
        except FileNotFoundError:
            personas = {}
        personas[persona] = {
            "checked_on": today().isoformat(),
            "axe_version": axe_version,
            "browser": browser,
            "pages": pages,
        }
        record = {
            "tool": f"axe-playwright-python {version('axe-playwright-python')}",
            "tags": list(tags),
            "excluded": sorted(f"{rule} {target}" for rule, target in excluded),
            "personas": dict(sorted(personas.items())),
        }
        RECORD_PATH.write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
