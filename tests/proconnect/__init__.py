"""A real OpenID provider for the ProConnect tests (Node's oidc-provider, provider.mjs), and a
small HTTP agent that plays the browser's part on the provider's side."""

import json
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.processes import stop

SCRIPT = Path(__file__).with_name("provider.mjs")
SITE = "http://testserver"
CLIENT_ID = "aap-isere-tests"
CLIENT_SECRET = "tests-only-client-secret"
CALLBACK = f"{SITE}/compte/proconnect/retour/"
AFTER_LOGOUT = f"{SITE}/"


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen
    output: list = field(default_factory=list)
    # The browser's cookies at the provider (its session), as a person's browser keeps them.
    agent: requests.Session = field(default_factory=requests.Session)

    def settings(self) -> dict:
        return {
            "PROCONNECT_ENABLED": True,
            "PROCONNECT_ISSUER": self.issuer,
            "PROCONNECT_CLIENT_ID": CLIENT_ID,
            "PROCONNECT_CLIENT_SECRET": CLIENT_SECRET,
        }

    def follow(self, url: str, *, login: str | None = None) -> requests.Response | str:
        """Go to ``url`` at the provider and through its pages, typing ``login`` on its
        login form; returns the address it sends the browser back to on our site, or the
        provider's last page."""
        method, data = "GET", None
        for _ in range(20):
            response = self.agent.request(method, url, data=data, allow_redirects=False)
            method, data = "GET", None
            if response.is_redirect:
                target = urljoin(url, response.headers["Location"])
                if target.startswith(SITE):
                    return target
                url = target
                continue
            form = re.search(
                r'<form method="post" action="(/interaction/[^"]+/login)"', response.text
            )
            if form and login is not None:
                url, method, data = urljoin(url, form.group(1)), "POST", {"login": login}
                continue
            logout = re.search(
                r'<form id="op.logoutForm" method="post" action="([^"]+)"', response.text
            )
            if logout:
                fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', response.text))
                url, method, data = (
                    urljoin(url, logout.group(1)),
                    "POST",
                    {**fields, "logout": "yes"},
                )
                continue
            return response
        raise AssertionError("the provider keeps redirecting")


def start(accounts: dict) -> Provider:
    """Start provider.mjs on a free loopback port with one client (ours) and ``accounts``
    (login → email, email_verified, acr, amr); wait until it listens."""
    node = shutil.which("node")
    assert node, "Node.js is needed (make test installs it: DEBIAN_PACKAGES)"
    config = {
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": [AFTER_LOGOUT],
        },
        "accounts": accounts,
    }
    process = subprocess.Popen(
        [node, str(SCRIPT)],
        env={"PATH": "/usr/bin:/bin", "OIDC_TEST_CONFIG": json.dumps(config)},
        cwd=SCRIPT.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    issuer = []

    def read():
        for line in process.stdout:
            output.append(line)
            if line.startswith("ready "):
                issuer.append(line.split()[1])
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(30) or not issuer:
        stop(process)
        raise AssertionError("the OpenID provider did not start:\n" + "".join(output))
    return Provider(issuer=issuer[0], process=process, output=output)
