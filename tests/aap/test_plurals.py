"""French plural forms: singular for 0 and 1, from the committed catalog."""

import os
import shutil

from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation
from django.utils.translation import ngettext

from aap.templatetags.aap_tags import remaining_text
from config.settings import LOCALE_PATHS


def plural_entries(catalog: str) -> list[str]:
    """The source text (msgid and msgid_plural) of each plural entry, and its French forms."""
    return sorted(
        "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        for block in catalog.split("\n\n")
        if "\nmsgid_plural " in block
    )


def test_zero_and_one_take_the_singular_two_the_plural():
    with translation.override("fr"):
        assert ngettext("%(n)d jour", "%(n)d jours", 0) % {"n": 0} == "0 jour"
        assert ngettext("%(n)d jour", "%(n)d jours", 1) % {"n": 1} == "1 jour"
        assert ngettext("%(n)d jour", "%(n)d jours", 2) % {"n": 2} == "2 jours"


def test_templates_count_in_french():
    template = Template(
        "{% load i18n %}{% blocktranslate count n=total %}{{ n }} dossier"
        "{% plural %}{{ n }} dossiers{% endblocktranslate %}"
    )
    with translation.override("fr"):
        rendered = [template.render(Context({"total": total})) for total in (0, 1, 2, 30)]
    assert rendered == ["0 dossier", "1 dossier", "2 dossiers", "30 dossiers"]


def test_durations_read_in_french(settings):
    import datetime as dt

    now = dt.datetime(2024, 9, 16, 16, 0, tzinfo=dt.UTC)
    with translation.override("fr"):
        assert remaining_text(now + dt.timedelta(days=1, hours=1), now) == "1 jour et 1 heure"
        assert remaining_text(now + dt.timedelta(days=2), now) == "2 jours"


def test_the_committed_catalog_holds_every_plural_of_the_code(tmp_path, monkeypatch):
    """``make messages`` was run after the last plural string was written: the catalog
    made from the code now has the same plural entries as the committed one.

    makemessages writes beside the files it reads: it runs on a copy of the sources."""
    assert shutil.which("xgettext") and shutil.which("msgfmt"), "make test installs gettext"
    base = LOCALE_PATHS[0].parent
    committed = (LOCALE_PATHS[0] / "fr" / "LC_MESSAGES" / "django.po").read_text()
    copy = tmp_path / "src"
    for folder in (
        "core",
        "aap",
        "candidatures",
        "evaluation",
        "conventions",
        "demo",
        "config",
        "templates",
    ):
        shutil.copytree(base / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]), open(os.devnull, "w") as out:
        call_command("messages_fr", stdout=out)
    fresh = (copy / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text()
    assert (copy / "locale" / "fr" / "LC_MESSAGES" / "django.mo").stat().st_size > 0
    assert len(plural_entries(fresh)) > 10, "makemessages found too few plural entries"
    assert plural_entries(fresh) == plural_entries(committed)
    with translation.override("fr"):
        assert (
            Template(
                "{% load i18n %}{% blocktranslate count n=0 %}Un exemplaire papier, identique à la "
                "version électronique, est adressé au Département.{% plural %}{{ n }} exemplaires "
                "papier, identiques à la version électronique, sont adressés au Département."
                "{% endblocktranslate %}"
            )
            .render(Context())
            .startswith("Un exemplaire")
        )
