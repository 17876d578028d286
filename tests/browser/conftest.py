"""Headless Chromium (Debian's, Playwright cannot download its own here) against Django's
live server.

The live server needs a transactional database, whose flush between tests also removes
what data migrations created (the role groups, the EPCIs of the Isère): they are created
again before each test.
The journeys run on a fixed December day, whatever today's date: the server (the live
server is a thread of this process) and the browser's pages start at ``JOURNEY_INSTANT`` and
time flows from there.
A failed test leaves a screenshot and the page's HTML under ``var/test-artifacts/``.
"""

import datetime as dt
import importlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connections
from kombu import pools

from candidatures.models import Territory
from config.celery import app as celery_app
from core.roles import Role

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
CSP_MESSAGE = re.compile(r"Content[- ]Security[- ]Policy|Refused to", re.IGNORECASE)
# A month whose French name has an accent, in winter time: a journey that matched dates
# with an ASCII pattern failed in décembre, février and août only.
JOURNEY_INSTANT = dt.datetime(2025, 12, 9, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """``page.goto("/appels/")`` opens the live server's page."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "accept_downloads": True,
        # Bootstrap scrolls smoothly otherwise, and each click waits for the scroll to end.
        "reduced_motion": "reduce",
    }


@pytest.fixture(scope="session")
def playwright(playwright):
    """Playwright's sync API runs an event loop in the test thread, and while it runs Django
    files that thread's database connections apart (asgiref's Local). Connections opened
    then, by these tests or by database tests that run after them, are closed while the
    loop still runs, or the test database cannot be dropped at the end."""
    yield playwright
    connections.close_all()


@pytest.fixture(autouse=True)
def journey_clock(context):
    """Both clocks at ``JOURNEY_INSTANT``, before any data of the test is made: the
    server's through time-machine, the pages' (countdowns) through Playwright's clock."""
    with time_machine.travel(JOURNEY_INSTANT, tick=True):
        context.clock.install(time=JOURNEY_INSTANT)
        yield


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    """The groups of the data migration, gone after the previous test's flush."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(autouse=True)
def territories(transactional_db):
    """The EPCIs an organisation may cover, also from a data migration."""
    migration = importlib.import_module("candidatures.migrations.0003_territories")
    for name in migration.EPCIS:
        Territory.objects.get_or_create(name=name)


@pytest.fixture(autouse=True)
def fresh_broker_pools():
    """E-mails leave through Celery (eager), which still takes a producer from kombu's
    process-wide pools: one closed by an earlier test would leave the message pending."""
    pools.reset()
    celery_app._after_fork()


@pytest.fixture(autouse=True)
def site_url(settings, live_server):
    """Links in e-mails point to the live server, so the browser can open them."""
    settings.SITE_URL = live_server.url


@pytest.fixture
def page(page, request):
    """Playwright's page, failing the test on a CSP violation or an uncaught script error,
    and leaving a screenshot behind when the test fails."""
    problems = []

    def on_console(message):
        if CSP_MESSAGE.search(message.text):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.set_default_timeout(5_000)
    page.set_default_navigation_timeout(10_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)
            (ARTIFACTS_DIR / f"{name}.html").write_text(page.content(), encoding="utf-8")
        except Exception as error:  # a crashed page must not hide the test's own failure
            print(f"Capture impossible pour {name} : {error}")  # noqa: T201
    if problems:
        pytest.fail("La console du navigateur signale :\n" + "\n".join(problems))
