"""`make run` asks for what running needs and nothing more.

It checks Python and the two libraries the platform loads (Pango for WeasyPrint,
libmagic), by loading them. The libraries are hidden from the check the way a machine
without them would: a ``sitecustomize`` module makes ctypes and cffi fail to open them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Loaded by Python at start-up when its folder is on PYTHONPATH: the libraries whose name
# contains one of HIDE_LIBRARIES cannot be opened, as on a machine without them.
HIDING_SITECUSTOMIZE = """
import ctypes
import ctypes.util
import os

import cffi

HIDDEN = os.environ["HIDE_LIBRARIES"].split(",")


def hidden(name):
    return name is not None and any(part in str(name) for part in HIDDEN)


_find_library = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if hidden(name) else _find_library(name)
_cdll_init = ctypes.CDLL.__init__


def cdll_init(self, name, *args, **kwargs):
    if hidden(name):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    _cdll_init(self, name, *args, **kwargs)


ctypes.CDLL.__init__ = cdll_init
_dlopen = cffi.FFI.dlopen


def dlopen(self, name, *args, **kwargs):
    if hidden(name):
        raise OSError(f"cannot load library '{name}'")
    return _dlopen(self, name, *args, **kwargs)


cffi.FFI.dlopen = dlopen
"""


def run_check(tmp_path, *, hide=(), path=None):
    (tmp_path / "sitecustomize.py").write_text(HIDING_SITECUSTOMIZE)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(BASE_DIR)]),
        "HIDE_LIBRARIES": ",".join(hide) or "-none-",
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "config.runtime_deps"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_check_passes_on_a_machine_without_chromium_clamav_or_poppler(tmp_path):
    # No PATH at all: no chromium, clamd, pdftotext, msgfmt, apt-get or sudo to find.
    result = run_check(tmp_path, path=str(tmp_path / "empty"))

    assert result.returncode == 0, result.stderr
    assert "présentes (WeasyPrint, libmagic)" in result.stdout


def test_a_missing_libmagic_is_named_with_its_install_commands(tmp_path):
    result = run_check(tmp_path, hide=["magic"])

    assert result.returncode == 1
    message = result.stderr
    assert (
        "Manquant : libmagic, nécessaire pour la vérification du contenu des fichiers déposés."
        in message
    )
    assert "Debian/Ubuntu     sudo apt-get install libmagic1" in message
    assert "Fedora            sudo dnf install file-libs" in message
    assert "macOS (Homebrew)  brew install libmagic" in message
    assert "Pango" not in message  # WeasyPrint loaded: only what is missing is named
    assert "relancez « make run »" in message
    print(message)  # noqa: T201 (the message a newcomer reads, in the output of -s)


def test_a_missing_pango_is_named_with_its_install_commands(tmp_path):
    result = run_check(tmp_path, hide=["pango"])

    assert result.returncode == 1
    message = result.stderr
    assert "Manquant : Pango et HarfBuzz (WeasyPrint), nécessaire pour les PDF" in message
    assert "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" in message
    assert "brew install pango" in message
    assert "libmagic" not in message


@pytest.fixture
def make_dry_run():
    # SITE_URL from the environment would win over the one PORT gives (as documented).
    env = {name: value for name, value in os.environ.items() if name != "SITE_URL"}

    def dry_run(*args):
        result = subprocess.run(
            ["make", "--dry-run", "--always-make", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return dry_run


def test_make_run_installs_nothing_the_tests_alone_use(make_dry_run):
    commands = make_dry_run("run")

    assert "config.runtime_deps" in commands
    for word in ("apt-get", "dpkg", "sudo", "chromium", "clamav", "poppler", "gettext"):
        assert word not in commands, word
    # make test still installs its Debian packages.
    assert "apt-get install" in make_dry_run("test")


def test_make_run_serves_on_the_port_it_is_given(make_dry_run):
    commands = make_dry_run("run", "PORT=8001")

    assert "honcho start -f Procfile.dev -p 8001" in commands
    assert "SITE_URL=http://127.0.0.1:8001" in commands
    assert "Plateforme : http://127.0.0.1:8001" in commands
    procfile = (BASE_DIR / "Procfile.dev").read_text()
    assert "runserver 127.0.0.1:$PORT" in procfile  # honcho gives the first process PORT
