"""The documented reverse proxy (deploy/nginx/), started in front of a local server.

The tests and the bench serve the platform through the very files of ``deploy/nginx``:
only the upstream address and the listening port differ, the files nginx writes go to a
temporary folder, and the static files (nginx's error pages among them) are read from the
repository's ``static/``, which ``collectstatic`` copies to ``/srv/aap/static/`` in
production.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.processes import stop

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOY = BASE_DIR / "deploy" / "nginx"
STATIC = BASE_DIR / "static"
# Where proxy.conf reads the static files on a server (STATIC_ROOT there).
SERVER_STATIC_ROOT = "/srv/aap/static/"

MAIN_CONF = """\
daemon off;
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include aap/limits.conf;
    upstream aap_app {{
        {servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        include aap/proxy.conf;
    }}
}}
"""


def find_nginx() -> str | None:
    # Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def link_deploy_files(folder: Path) -> None:
    """``folder`` holds deploy/nginx/'s files, linked, except proxy.conf, copied with the
    static files read from the repository."""
    folder.mkdir()
    for path in DEPLOY.iterdir():
        if path.name != "proxy.conf":
            (folder / path.name).symlink_to(path)
    text = (DEPLOY / "proxy.conf").read_text()
    if SERVER_STATIC_ROOT not in text:
        raise RuntimeError(f"deploy/nginx/proxy.conf no longer reads {SERVER_STATIC_ROOT}")
    (folder / "proxy.conf").write_text(text.replace(SERVER_STATIC_ROOT, f"{STATIC}/"))


@contextlib.contextmanager
def nginx_proxy(upstream: str | Sequence[str], *, connections: int = 1024, port: int | None = None):
    """nginx with deploy/nginx/proxy.conf in front of ``upstream`` ("127.0.0.1:8000"), or of
    several servers (a list; nginx spreads the requests over them in turn, round robin),
    on ``port`` or a free one; yields the port it listens on."""
    executable = find_nginx()
    if executable is None:
        raise FileNotFoundError("nginx is not installed (make test installs nginx-light)")
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="aap-nginx-") as folder:
        root = Path(folder)
        link_deploy_files(root / "aap")
        conf = root / "nginx.conf"
        conf.write_text(
            MAIN_CONF.format(
                dir=root,
                servers="\n        ".join(
                    f"server {address};"
                    for address in ([upstream] if isinstance(upstream, str) else upstream)
                ),
                port=port,
                connections=connections,
                # As root, nginx's workers would switch to an account that cannot enter
                # the temporary folder.
                user="user root;" if os.geteuid() == 0 else "",
            )
        )
        process = subprocess.Popen(
            [executable, "-p", str(root), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=(root / "stderr.log").open("wb"),
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                if process.poll() is not None:
                    logs = [root / "stderr.log", root / "error.log"]
                    text = "\n".join(p.read_text() for p in logs if p.exists())
                    raise RuntimeError(f"nginx stopped with code {process.returncode}:\n{text}")
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen within 10 s")
                time.sleep(0.05)
            yield port
        finally:
            stop(process)
