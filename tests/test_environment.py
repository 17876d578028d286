"""The tests' services come from the environment: a run pointed at another database or
broker shares nothing with this one."""

import os
import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
FIXED_REDIS_DATABASE = re.compile(r"redis://[^/\s\"']+:6379/\d+")

CELERY_CONFIGURATION = """
import django
django.setup()
from django.conf import settings
from config.celery import app
print(settings.CELERY_BROKER_URL, app.conf.broker_url, settings.DATABASES["default"]["NAME"])
"""


def test_the_broker_and_the_database_follow_the_environment():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/9",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/aap_other_run",
    }
    result = subprocess.run(
        [sys.executable, "-c", CELERY_CONFIGURATION],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == [
        "redis://127.0.0.1:6379/9",
        "redis://127.0.0.1:6379/9",
        "aap_other_run",
    ]


def test_no_test_names_a_redis_database_of_its_own():
    """Only tests/environment.py holds the default; a test that picked a database of its
    own would share its queue with every other run on the machine."""
    offenders = [
        f"{path.relative_to(BASE_DIR)}: {match.group(0)}"
        for path in (BASE_DIR / "tests").rglob("*.py")
        if path.name != "environment.py" and path != Path(__file__)
        for match in FIXED_REDIS_DATABASE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_redis_cache_gives_up_as_quickly_as_the_broker():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CACHE_URL": "redis://127.0.0.1:6379/9",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['OPTIONS'])",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "{'socket_timeout': 0.5, 'socket_connect_timeout': 0.5}"
