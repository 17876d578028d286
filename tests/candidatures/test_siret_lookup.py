"""« Compléter depuis le SIRET »: the organisation sheet is filled from the company
directory (API Recherche d'entreprises), served here by a local HTTP server with recorded
answers (tests/data/company_directory/). A directory that is slow, fails, refuses (429) or
does not know the SIRET leaves the form usable by hand, saying so in French; a closed
establishment is a clear warning. Nothing is saved by the lookup itself."""

import contextlib
import html
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from aap.models import OrganisationKind
from candidatures import company_directory
from candidatures.models import Organisation
from tests.candidatures.test_organisations import organisation_data
from tests.factories import OrganisationFactory

ANSWERS = Path(__file__).resolve().parent.parent / "data" / "company_directory"
ASSOCIATION = "77948923600017"
EPCI_BRANCH = "24380005900012"  # a secondary establishment, not the head office
CLOSED_GIP = "18380017600012"
UNKNOWN = "48234567500011"
ANY = "20004000400018"
UNAVAILABLE = (
    "L'annuaire des entreprises ne répond pas pour le moment. Remplissez la fiche vous-même : "
    "elle s'enregistre normalement, et vous pourrez réessayer plus tard."
)


class Directory:
    """A local stand-in for the directory: recorded answers, or a chosen failure."""

    def __init__(self):
        self.mode = "recorded"
        self.requests = []
        directory = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                directory.requests.append(url)
                if directory.mode == "slow":
                    time.sleep(1.0)
                if directory.mode in {"500", "429"}:
                    self.send_response(int(directory.mode))
                    self.end_headers()
                    self.wfile.write(b'{"erreur": "indisponible"}')
                    return
                if directory.mode == "garbage":
                    body = b"<html>maintenance</html>"
                else:
                    siret = parse_qs(url.query)["q"][0]
                    path = ANSWERS / f"{siret}.json"
                    body = (
                        path.read_bytes()
                        if path.exists()
                        else json.dumps({"results": [], "total_results": 0}).encode()
                    )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # The platform may have given up waiting (timeout).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def directory(settings):
    server = Directory()
    settings.COMPANY_DIRECTORY_URL = server.url
    settings.COMPANY_DIRECTORY_CONNECT_TIMEOUT = 0.5
    settings.COMPANY_DIRECTORY_READ_TIMEOUT = 0.2
    for siret in (ASSOCIATION, EPCI_BRANCH, CLOSED_GIP, UNKNOWN, ANY):
        company_directory.forget(siret)
    yield server
    server.close()


def page(response) -> str:
    return html.unescape(response.content.decode())


def lookup(client, siret, **typed):
    return client.post(
        reverse("candidatures:organisation_create"), {"siret": siret, "lookup": "1", **typed}
    )


def field_value(response, name):
    return response.context["form"][name].value()


# --- The service ------------------------------------------------------------------------


def test_the_service_reads_an_association_with_its_rna_and_naf_code(db, directory):
    found = company_directory.lookup_siret(ASSOCIATION)
    assert found == company_directory.Establishment(
        siret=ASSOCIATION,
        name="TRIEVES EMPLOI SOLIDARITE",
        address="12 RUE DE LA GARE",
        postal_code="38710",
        city="Mens",
        legal_form="9220",
        kind=OrganisationKind.ASSOCIATION,
        naf_code="88.99B",
        active=True,
        rna="W381004567",
    )
    assert directory.requests[0].path == "/search"
    assert parse_qs(directory.requests[0].query)["q"] == [ASSOCIATION]


def test_the_service_reads_the_establishment_of_the_siret_not_the_head_office(db, directory):
    found = company_directory.lookup_siret(EPCI_BRANCH)
    assert (found.kind, found.address, found.postal_code, found.city, found.naf_code) == (
        OrganisationKind.EPCI,
        "2 PLACE DE LA MAIRIE",
        "38710",
        "Mens",
        "88.99B",
    )
    assert found.form_values().get("rna") is None  # only an association has one


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("7346", OrganisationKind.EPCI),
        ("7348", OrganisationKind.EPCI),
        ("7344", OrganisationKind.EPCI),
        ("7343", OrganisationKind.EPCI),
        ("7210", OrganisationKind.COMMUNE),
        ("7410", OrganisationKind.GIP),
        ("9220", OrganisationKind.ASSOCIATION),
        ("9230", OrganisationKind.ASSOCIATION),
        ("5710", OrganisationKind.OTHER),
        ("", OrganisationKind.OTHER),
    ],
)
def test_legal_forms_map_to_our_organisation_kinds(code, kind):
    assert company_directory.kind_of_legal_form(code) == kind


def test_answers_are_cached_one_request_per_siret(db, directory):
    first = company_directory.lookup_siret(ASSOCIATION)
    directory.mode = "500"  # the cache answers: the directory is not asked again
    assert company_directory.lookup_siret(ASSOCIATION) == first
    assert len(directory.requests) == 1


def test_an_unknown_siret_is_none_and_cached_too(db, directory):
    assert company_directory.lookup_siret(UNKNOWN) is None
    assert company_directory.lookup_siret(UNKNOWN) is None
    assert len(directory.requests) == 1


@pytest.mark.parametrize("mode", ["slow", "500", "429", "garbage"])
def test_a_failing_directory_raises_unavailable_and_nothing_is_cached(db, directory, mode):
    directory.mode = mode
    started = time.monotonic()
    with pytest.raises(company_directory.DirectoryUnavailable):
        company_directory.lookup_siret(ANY)
    if mode == "slow":  # the read timeout (0.2 s) ended the wait, not the server's 1 s
        assert time.monotonic() - started < 0.9
    directory.mode = "recorded"
    assert company_directory.lookup_siret(ANY) is None  # asked again: the failure was not kept
    assert len(directory.requests) == 2


def test_an_unreachable_directory_raises_unavailable(db, directory, settings):
    directory.close()
    with pytest.raises(company_directory.DirectoryUnavailable):
        company_directory.lookup_siret(ANY)


# --- The organisation sheet ------------------------------------------------------------


def test_typing_a_siret_fills_the_organisation_from_the_directory(candidate, client, directory):
    client.force_login(candidate)
    response = lookup(client, " 779 489 236 00017 ", legal_representative_name="Claire Martin")
    assert response.status_code == 200
    values = {
        name: field_value(response, name)
        for name in ("siret", "name", "kind", "address", "postal_code", "city", "rna")
    }
    assert values == {
        "siret": ASSOCIATION,
        "name": "TRIEVES EMPLOI SOLIDARITE",
        "kind": "association",
        "address": "12 RUE DE LA GARE",
        "postal_code": "38710",
        "city": "Mens",
        "rna": "W381004567",
    }
    assert field_value(response, "legal_representative_name") == "Claire Martin"  # kept
    text = page(response)
    assert "Code NAF (activité principale)" in text and "88.99B" in text
    assert "9220 (Association)" in text
    assert "vérifiez-les, complétez le représentant légal, puis enregistrez" in text
    assert not Organisation.objects.exists()  # the lookup saves nothing

    # The candidate completes the legal representative and saves what was filled in.
    data = {
        name: field_value(response, name)
        for name in ("siret", "name", "kind", "address", "postal_code", "city", "rna")
    } | {
        "legal_representative_name": "Claire Martin",
        "legal_representative_role": "Présidente",
        "legal_representative_email": "presidente@tes.test",
    }
    response = client.post(reverse("candidatures:organisation_create"), data)
    assert response.status_code == 302
    organisation = Organisation.objects.get()
    assert (organisation.name, organisation.kind, organisation.rna, organisation.city) == (
        "TRIEVES EMPLOI SOLIDARITE",
        "association",
        "W381004567",
        "Mens",
    )


def test_a_closed_establishment_is_a_clear_warning(candidate, client, directory):
    client.force_login(candidate)
    text = page(lookup(client, CLOSED_GIP))
    assert "Attention : cet établissement est fermé." in text
    assert f"l'établissement {CLOSED_GIP} n'est plus en activité" in text


def test_an_unknown_siret_says_so_and_keeps_what_was_typed(candidate, client, directory):
    client.force_login(candidate)
    response = lookup(client, UNKNOWN, name="Ma structure")
    assert f"L'annuaire des entreprises ne connaît pas le SIRET {UNKNOWN}" in page(response)
    assert field_value(response, "name") == "Ma structure"


def test_an_invalid_siret_is_not_sent_to_the_directory(candidate, client, directory):
    client.force_login(candidate)
    response = lookup(client, "12345678901234")
    assert "Ce numéro SIRET n'est pas valide" in page(response)
    assert directory.requests == []


@pytest.mark.parametrize("mode", ["slow", "500", "429"])
def test_with_the_directory_down_the_form_says_so_and_still_saves_by_hand(
    candidate, client, directory, mode
):
    directory.mode = mode
    client.force_login(candidate)
    typed = organisation_data(siret=ANY, name="Saisie à la main")
    response = lookup(client, ANY, **{k: v for k, v in typed.items() if k != "siret"})
    assert response.status_code == 200
    assert UNAVAILABLE in page(response)
    assert field_value(response, "name") == "Saisie à la main"  # nothing lost
    response = client.post(reverse("candidatures:organisation_create"), typed)
    assert response.status_code == 302
    assert Organisation.objects.get().name == "Saisie à la main"


def test_a_member_completes_an_existing_sheet_and_others_cannot(
    candidate, other_candidate, client, directory
):
    organisation = OrganisationFactory(siret=EPCI_BRANCH, name="CC Trièves", kind="other")
    organisation.memberships.create(user=candidate)
    url = reverse("candidatures:organisation_edit", args=[organisation.pk])
    client.force_login(other_candidate)
    assert client.post(url, {"siret": EPCI_BRANCH, "lookup": "1"}).status_code == 404
    client.force_login(candidate)
    response = client.post(url, {"siret": EPCI_BRANCH, "lookup": "1", "name": "CC Trièves"})
    assert field_value(response, "kind") == "epci"
    assert field_value(response, "name") == "COMMUNAUTE DE COMMUNES DU TRIEVES"
    organisation.refresh_from_db()
    assert (organisation.name, organisation.kind) == ("CC Trièves", "other")  # not saved


def test_with_htmx_the_lookup_button_posts_the_form_and_swaps_the_sheet(
    candidate, client, directory
):
    client.force_login(candidate)
    url = reverse("candidatures:organisation_create") + "?appel=aap-2024"
    text = page(client.get(url))
    assert 'name="lookup"' in text
    assert f'hx-post="{url}"' in text and 'hx-select="#organisation-sheet"' in text
    assert "vendor/htmx/htmx.min.js" in text and "js/htmx-config.js" in text
    response = client.post(url, {"siret": ASSOCIATION, "lookup": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps 2xx answers only
    sheet = page(response).split('<div id="organisation-sheet">', 1)[1]
    assert 'value="TRIEVES EMPLOI SOLIDARITE"' in sheet and "88.99B" in sheet


def test_enter_in_a_field_saves_the_sheet_it_does_not_look_up(candidate, client, directory):
    """A form's implicit submission uses its first submit button: it must be « Enregistrer »."""
    client.force_login(candidate)
    text = page(client.get(reverse("candidatures:organisation_create")))
    form = text.split('<form method="post" novalidate>', 1)[1]
    first_button = form.split("<button", 2)[1]
    assert 'name="lookup"' not in first_button and "Enregistrer" in first_button
