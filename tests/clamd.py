"""A real clamd for the tests, started once per session on a signature database made
here for the EICAR test file (no signature download is possible or needed).

Both a whole-file MD5 signature and a body signature are loaded: the MD5 one matches only
a file that is exactly EICAR (such as a member of a DOCX), the body one matches the string
anywhere (such as appended to a PDF). ``tests/conftest.py`` makes ``clamd_socket``
available to every test.
"""

import contextlib
import ctypes
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from clamav_client import clamd

from tests.processes import stop

# Two halves, so that this file itself is never taken for the test virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
BODY_SIGNATURE = "Eicar-Test-Body"
# clamd closes the stream past this size; production must allow the largest upload.
STREAM_MAX_LENGTH = 1024 * 1024
START_TIMEOUT = 60

CLAMD_CONF = """\
LocalSocket {dir}/clamd.sock
LocalSocketMode 600
DatabaseDirectory {dir}/db
TemporaryDirectory {dir}/tmp
PidFile {dir}/clamd.pid
LogFile {dir}/clamd.log
Foreground yes
MaxThreads 2
StreamMaxLength {stream_max}
"""


def _find_clamd():
    # Debian puts clamd in /usr/sbin, which is not on a normal user's PATH.
    return shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")


def _die_with_parent():
    # A clamd left behind by a killed test run would keep running: Linux ends it for us.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _sigtool(*args, stdin=None) -> str:
    out = subprocess.run(
        ["sigtool", *args], input=stdin, capture_output=True, check=True, timeout=30
    )
    return out.stdout.decode().strip()


@pytest.fixture(scope="session")
def clamd_socket():
    """The path of the Unix socket of a clamd started for this test session."""
    executable = _find_clamd()
    if executable is None:
        pytest.skip("clamd is not installed (make test installs clamav-daemon and clamav)")
    if shutil.which("sigtool") is None:
        pytest.fail("clamd is installed but sigtool is not: install the Debian package clamav")
    with tempfile.TemporaryDirectory(prefix="aap-clamd-") as folder:
        root = Path(folder)
        (root / "db").mkdir()
        (root / "tmp").mkdir()
        (root / "eicar.com").write_bytes(EICAR)
        md5 = _sigtool("--md5", str(root / "eicar.com"))
        (root / "db" / "eicar.hdb").write_text(md5 + "\n")
        body = _sigtool("--hex-dump", stdin=EICAR)
        (root / "db" / "eicar.ndb").write_text(f"{BODY_SIGNATURE}:0:*:{body}\n")
        conf = root / "clamd.conf"
        conf.write_text(CLAMD_CONF.format(dir=root, stream_max=STREAM_MAX_LENGTH))
        socket_path = str(root / "clamd.sock")
        output = (root / "clamd.out").open("wb")
        process = subprocess.Popen(
            [executable, f"--config-file={conf}"],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

        def clamd_output():
            logs = [root / "clamd.out", root / "clamd.log"]
            return "\n".join(path.read_text(errors="replace") for path in logs if path.exists())

        try:
            client = clamd.ClamdUnixSocket(path=socket_path, timeout=2)
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(f"clamd stopped with code {process.returncode}:\n{clamd_output()}")
                with contextlib.suppress(clamd.ClamdError):
                    if client.ping() == "PONG":
                        break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"clamd did not answer PING in {START_TIMEOUT} s:\n{clamd_output()}"
                    )
                time.sleep(0.05)
            yield socket_path
        finally:
            stop(process)
            output.close()
