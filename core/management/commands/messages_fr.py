"""``manage.py messages_fr``: the French catalog, for its plural forms.

The code is written in French, so no string needs translating; but without a catalog
``ngettext`` and ``{% blocktranslate count %}`` fall back to the English rule and write
"0 dossiers". French uses the singular for 0 and 1 (``plural=(n > 1)``). This command
collects the strings (``makemessages``), gives each plural entry its own French forms
(msgstr[0] = msgid, msgstr[1] = msgid_plural), then compiles the catalog. The ``.po`` and
the ``.mo`` are committed: nothing needs gettext at run time.
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, call_command

IGNORED = [".venv", "var", "node_modules", "tests", "bench", "static"]


def _string(lines: list[str], start: int) -> tuple[list[str], int]:
    """The quoted lines of the keyword at ``start`` (its own and the continuations)."""
    value = [lines[start].split(" ", 1)[1]]
    index = start + 1
    while index < len(lines) and lines[index].startswith('"'):
        value.append(lines[index])
        index += 1
    return value, index


def fill_plurals(text: str) -> tuple[str, int]:
    """Identity translations for the plural entries; the header loses its fuzzy flag
    (msgfmt would drop it, and its Plural-Forms with it)."""
    blocks = text.split("\n\n")
    filled = 0
    out = []
    for number, block in enumerate(blocks):
        lines = block.split("\n")
        if number == 0:
            lines = [line for line in lines if line != "#, fuzzy"]
        keys = [line.split(" ", 1)[0] for line in lines]
        if "msgid_plural" in keys:
            msgid, _ = _string(lines, keys.index("msgid"))
            plural, _ = _string(lines, keys.index("msgid_plural"))
            head = lines[: keys.index("msgstr[0]")]
            lines = [
                *head,
                f"msgstr[0] {msgid[0]}",
                *msgid[1:],
                f"msgstr[1] {plural[0]}",
                *plural[1:],
            ]
            lines = [line for line in lines if not re.fullmatch(r"#, fuzzy", line)]
            filled += 1
        out.append("\n".join(lines))
    return "\n\n".join(out), filled


class Command(BaseCommand):
    help = "Collecte les chaînes et compile le catalogue français (formes du pluriel)."

    def handle(self, *args, **options):
        call_command(
            "makemessages",
            locale=["fr"],
            no_obsolete=True,
            no_location=True,
            ignore_patterns=IGNORED,
            verbosity=0,
        )
        path = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po"
        text, filled = fill_plurals(path.read_text())
        path.write_text(text)
        call_command("compilemessages", locale=["fr"], ignore_patterns=IGNORED, verbosity=0)
        self.stdout.write(f"{path}: {filled} entrée(s) au pluriel")
