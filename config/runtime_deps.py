"""What `make run` needs from the system, checked by loading it.

Running the platform needs Python 3.11 or newer and two system libraries that Python
packages load: Pango (with HarfBuzz and a font) for WeasyPrint's PDFs, and libmagic for
the upload checks. Each is loaded here as the platform loads it, not looked up in a
package manager, so the check holds on any system. A missing one is named with the
command that installs it; nothing is installed from here (and ``sudo`` is never called).

What only the tests use (Chromium, ClamAV, poppler, gettext) is not checked: ``make
test`` installs it.

    python -m config.runtime_deps
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass

MINIMUM_PYTHON = (3, 11)


def _load_weasyprint() -> None:
    import weasyprint  # loads Pango and HarfBuzz through cffi

    weasyprint.HTML(string="<p>Département de l'Isère</p>").write_pdf()


def _load_libmagic() -> None:
    import magic  # loads libmagic through ctypes

    if magic.from_buffer(b"%PDF-1.7\n", mime=True) != "application/pdf":
        raise ImportError("libmagic ne reconnaît pas un PDF (base de types absente ?)")


@dataclass(frozen=True)
class Requirement:
    name: str
    purpose: str
    load: Callable[[], None]
    install: dict[str, str]


REQUIREMENTS = [
    Requirement(
        name="Pango et HarfBuzz (WeasyPrint)",
        purpose="les PDF (accusés de réception, lettres, conventions)",
        load=_load_weasyprint,
        install={
            "Debian/Ubuntu": "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            "libharfbuzz-subset0 fonts-dejavu-core",
            "Fedora": "sudo dnf install pango harfbuzz dejavu-sans-fonts",
            "macOS (Homebrew)": "brew install pango",
        },
    ),
    Requirement(
        name="libmagic",
        purpose="la vérification du contenu des fichiers déposés",
        load=_load_libmagic,
        install={
            "Debian/Ubuntu": "sudo apt-get install libmagic1",
            "Fedora": "sudo dnf install file-libs",
            "macOS (Homebrew)": "brew install libmagic",
        },
    ),
]


def missing() -> list[tuple[Requirement, str]]:
    """Each requirement that does not load, with the error it gave."""
    problems = []
    for requirement in REQUIREMENTS:
        try:
            requirement.load()
        except (ImportError, OSError) as error:
            problems.append((requirement, str(error).splitlines()[0] if str(error) else ""))
    return problems


def main() -> int:
    if sys.version_info[:2] < MINIMUM_PYTHON:
        print(
            f"Python {'.'.join(map(str, MINIMUM_PYTHON))} ou plus récent est nécessaire "
            f"(celui-ci : {sys.version.split()[0]}).",
            file=sys.stderr,
        )
        return 1
    problems = missing()
    for requirement, error in problems:
        print(
            f"\nManquant : {requirement.name}, nécessaire pour {requirement.purpose}.",
            file=sys.stderr,
        )
        if error:
            print(f"  ({error})", file=sys.stderr)
        print("  Pour l'installer :", file=sys.stderr)
        for system, command in requirement.install.items():
            print(f"    {system:<17} {command}", file=sys.stderr)
    if problems:
        print("\nInstallez ce qui manque, puis relancez « make run ».", file=sys.stderr)
        return 1
    print("Bibliothèques système nécessaires : présentes (WeasyPrint, libmagic).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
