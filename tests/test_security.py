"""Security headers on every response, and pages a strict Content-Security-Policy can serve.

The policy forbids inline scripts, inline styles and event-handler attributes: a page
that used one would break in the browser, so the rendered HTML is checked here. Every
script, stylesheet and font is one of our static files, never a CDN's.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import ready_call

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
# rel values of <link> that load a resource the page uses (styles, fonts, icons, scripts).
LOADING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "icon",
    "apple-touch-icon",
    "manifest",
}


class PageAudit(HTMLParser):
    """Collects what a strict CSP would block and the resources a page loads."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocked = []  # (line, description)
        self.resources = []  # (tag, url) of scripts, stylesheets, fonts, icons, images

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.blocked.append((line, f"style= on <{tag}>"))
            elif name.startswith("on"):
                self.blocked.append((line, f"{name}= on <{tag}>"))
            elif value and value.strip().lower().startswith("javascript:"):
                self.blocked.append((line, f"javascript: URL in {name}= on <{tag}>"))
        if tag == "script":
            if attributes.get("src"):
                self.resources.append((tag, attributes["src"]))
            else:
                self.blocked.append((line, "inline <script>"))
        elif tag == "style":
            self.blocked.append((line, "inline <style>"))
        elif tag == "link" and attributes.get("href"):
            rels = set((attributes.get("rel") or "").lower().split())
            if rels & LOADING_RELS:
                self.resources.append((tag, attributes["href"]))
        elif tag == "img" and attributes.get("src"):
            self.resources.append((tag, attributes["src"]))


def audit(response) -> PageAudit:
    parser = PageAudit()
    parser.feed(response.content.decode(response.charset or "utf-8"))
    parser.close()
    return parser


@pytest.fixture
def call(db):
    return ready_call()


# name: (persona fixture or None, path of the page for ``call``, status, shows the call)
PAGES = {
    "home": (None, lambda call: reverse("aap:home"), 200, True),
    "call_list": (None, lambda call: reverse("aap:call_list"), 200, True),
    "call_detail": (None, lambda call: reverse("aap:call_detail", args=[call.slug]), 200, True),
    "call_detail_candidate": (
        "candidate",
        lambda call: reverse("aap:call_detail", args=[call.slug]),
        200,
        True,
    ),
    "login": (None, lambda call: reverse("accounts:login"), 200, False),
    "signup": (None, lambda call: reverse("accounts:signup"), 200, False),
    "backoffice_calls": ("instructeur", lambda call: reverse("aap:backoffice_calls"), 200, True),
    "backoffice_call": (
        "instructeur",
        lambda call: reverse("aap:backoffice_call", args=[call.pk]),
        200,
        True,
    ),
    "not_found": (None, lambda call: "/cette-page-n-existe-pas/", 404, False),
}


@pytest.fixture
def page(request, client, call):
    """``(response, path)`` for the page named by the test's parameter."""
    persona, path_of, status, shows_call = PAGES[request.param]
    if persona is not None:
        client.force_login(request.getfixturevalue(persona))
    path = path_of(call)
    response = client.get(path)
    # The checks below mean something only on the page itself, with its data.
    assert response.status_code == status, path
    assert response["Content-Type"].startswith("text/html")
    if shows_call:
        assert call.title in response.content.decode(), path
    return response, path


pages = pytest.mark.parametrize("page", list(PAGES), indirect=True)


@pages
def test_page_carries_the_security_headers(page):
    response, path = page
    csp = response.get("Content-Security-Policy", "")
    assert csp, f"{path}: no Content-Security-Policy"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.get("X-Frame-Options") == "DENY"
    assert response.get("X-Content-Type-Options") == "nosniff"
    assert response.get("Referrer-Policy") == "same-origin"
    assert "camera=()" in response.get("Permissions-Policy", "")


@pages
def test_page_has_no_inline_script_style_or_event_handler(page):
    response, path = page
    assert audit(response).blocked == [], path


@pages
def test_page_loads_only_existing_static_files(page):
    response, path = page
    resources = audit(response).resources
    assert any(tag == "script" for tag, _url in resources), f"{path}: no script at all?"
    external = [url for _tag, url in resources if EXTERNAL.match(url)]
    assert external == [], f"{path} loads from elsewhere: {external}"
    missing = []
    for _tag, url in resources:
        url_path = urlsplit(url).path
        if url_path.startswith(settings.STATIC_URL):
            if not finders.find(url_path.removeprefix(settings.STATIC_URL)):
                missing.append(url)
        elif not url.startswith("data:"):
            missing.append(url)  # neither a static file nor inline data
    assert missing == [], f"{path}: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/healthz", "/readyz", "/gestion/appels/"],
    ids=["json", "json_readiness", "redirect_to_login"],
)
def test_other_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in {200, 302}
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response and "Permissions-Policy" in response


def test_stylesheets_fetch_nothing_from_elsewhere():
    """Fonts and @import in our CSS files stay on our own server too."""
    offenders = []
    for finder in finders.get_finders():
        for relative_path, storage in finder.list(ignore_patterns=[]):
            if not relative_path.endswith(".css"):
                continue
            css = storage.open(relative_path).read().decode("utf-8", errors="replace")
            for match in re.finditer(
                r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")]+)""", css
            ):
                url = (match.group(1) or match.group(2)).strip()
                if url.startswith("data:") or url.startswith("#"):
                    continue
                if EXTERNAL.match(url):
                    offenders.append(f"{relative_path}: {url}")
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/appels/", "/compte/connexion/", "/healthz", "/readyz", "/admin/", "/nulle-part/"],
)
def test_a_host_that_is_not_allowed_gets_a_400_page_in_french(client, settings, path):
    """Before the authentication middleware runs, the request has no user: the error page
    is a visitor's, never a 500."""
    settings.DEBUG = False
    client.raise_request_exception = True  # a 500 would raise here

    response = client.get(path, HTTP_HOST="evil.test")

    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()


@pytest.mark.django_db
def test_a_logged_in_visitor_with_a_wrong_host_gets_the_400_page_too(
    client_for, candidate, settings
):
    settings.DEBUG = False
    client = client_for(candidate)
    client.raise_request_exception = True

    response = client.post(reverse("accounts:logout"), HTTP_HOST="evil.test:8000")

    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()
