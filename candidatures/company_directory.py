"""The public company directory (API Recherche d'entreprises): what a SIRET says about an
organisation, to fill in its sheet.

The directory is open and needs no key, but it is another service: a short connection and
read timeout (``COMPANY_DIRECTORY_*_TIMEOUT``), answers kept in Django's cache, and any
failure (timeout, refusal, 429, 5xx, an answer we cannot read) raises
``DirectoryUnavailable``, so that the form says so and stays usable by hand.
Standard library only: neither requests nor httpx is a dependency of the platform.
"""

import http.client
import json
import logging
import ssl
from dataclasses import asdict, dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache

from aap.models import OrganisationKind

logger = logging.getLogger(__name__)

# The answer of one SIRET is a few kilobytes; more is not an answer we asked for.
MAX_ANSWER_BYTES = 1_000_000
CACHE_VERSION = 1
# An unknown SIRET is remembered for less long: it may be registered tomorrow.
UNKNOWN_CACHE_SECONDS = 3600
UNKNOWN = "unknown"

# INSEE's « catégories juridiques » (nature_juridique, 4 digits) → our organisation kinds.
# EPCI with their own taxation: communauté urbaine, métropole, communauté de communes,
# communauté d'agglomération.
EPCI_LEGAL_FORMS = {"7343", "7344", "7346", "7348"}
COMMUNE_LEGAL_FORMS = {"7210"}
GIP_LEGAL_FORMS = {"7410"}
ASSOCIATION_LEGAL_FORM_PREFIX = "92"  # 9210 non déclarée, 9220 déclarée, 9230 RUP…


class DirectoryUnavailable(Exception):
    """The directory did not answer, or not in a way we can use."""


def kind_of_legal_form(code: str) -> str:
    """Our organisation kind for an INSEE legal form code (« other » when none fits)."""
    if code in EPCI_LEGAL_FORMS:
        return OrganisationKind.EPCI
    if code in COMMUNE_LEGAL_FORMS:
        return OrganisationKind.COMMUNE
    if code in GIP_LEGAL_FORMS:
        return OrganisationKind.GIP
    if code.startswith(ASSOCIATION_LEGAL_FORM_PREFIX):
        return OrganisationKind.ASSOCIATION
    return OrganisationKind.OTHER


@dataclass(frozen=True)
class Establishment:
    """What the directory says about one establishment (a SIRET)."""

    siret: str
    name: str
    address: str
    postal_code: str
    city: str
    legal_form: str  # INSEE code, « 9220 »
    kind: str  # an OrganisationKind value
    naf_code: str  # « 88.99B »
    active: bool
    rna: str

    def form_values(self) -> dict[str, str]:
        """The organisation sheet's fields this answer fills (empty values left out)."""
        values = {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "postal_code": self.postal_code,
            "city": self.city,
            "rna": self.rna if self.kind == OrganisationKind.ASSOCIATION else "",
        }
        return {field: value for field, value in values.items() if value}


def _street(establishment: dict, postal_code: str, city: str) -> str:
    """The street part of the address: the directory's one-line address without its
    postal code and town, which have their own fields."""
    line = (establishment.get("adresse") or "").strip()
    tail = f"{postal_code} {city}".strip()
    if tail and line.upper().endswith(tail.upper()):
        line = line[: -len(tail)].strip(" ,")
    return line


def _parse(payload: dict, siret: str) -> Establishment | None:
    for result in payload.get("results") or []:
        candidates = [*(result.get("matching_etablissements") or []), result.get("siege") or {}]
        establishment = next((e for e in candidates if e.get("siret") == siret), None)
        if establishment is None:
            continue
        postal_code = (establishment.get("code_postal") or "").strip()
        city = (establishment.get("libelle_commune") or "").strip()
        legal_form = str(result.get("nature_juridique") or "")
        complements = result.get("complements") or {}
        return Establishment(
            siret=siret,
            name=(result.get("nom_raison_sociale") or result.get("nom_complet") or "").strip(),
            address=_street(establishment, postal_code, city),
            postal_code=postal_code,
            city=city.title() if city.isupper() else city,
            legal_form=legal_form,
            kind=kind_of_legal_form(legal_form),
            naf_code=(
                establishment.get("activite_principale") or result.get("activite_principale") or ""
            ),
            active=establishment.get("etat_administratif") == "A",
            rna=(complements.get("identifiant_association") or "").strip().upper(),
        )
    return None


def _fetch(siret: str) -> dict:
    base = urlsplit(settings.COMPANY_DIRECTORY_URL)
    if base.scheme not in {"http", "https"} or not base.hostname:
        raise DirectoryUnavailable(f"bad COMPANY_DIRECTORY_URL: {settings.COMPANY_DIRECTORY_URL}")
    path = base.path.rstrip("/") + "/search?" + urlencode({"q": siret, "page": 1, "per_page": 1})
    connect_timeout = settings.COMPANY_DIRECTORY_CONNECT_TIMEOUT
    if base.scheme == "https":
        connection = http.client.HTTPSConnection(
            base.hostname, base.port, timeout=connect_timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=connect_timeout)
    try:
        connection.connect()
        # The connection had its own timeout; each read now waits at most this long.
        connection.sock.settimeout(settings.COMPANY_DIRECTORY_READ_TIMEOUT)
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(MAX_ANSWER_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:  # timeouts are OSErrors
        raise DirectoryUnavailable(f"directory unreachable: {error!r}") from error
    finally:
        connection.close()
    if response.status != 200:
        raise DirectoryUnavailable(f"directory answered {response.status}")
    if len(body) > MAX_ANSWER_BYTES:
        raise DirectoryUnavailable("directory answer too long")
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise DirectoryUnavailable("directory answer is not JSON") from error
    if not isinstance(payload, dict):
        raise DirectoryUnavailable("directory answer is not an object")
    return payload


def _cache_key(siret: str) -> str:
    return f"company_directory:v{CACHE_VERSION}:{siret}"


def lookup_siret(siret: str) -> Establishment | None:
    """The directory's establishment for ``siret`` (14 digits, already checked), ``None``
    when the directory does not know it; raises ``DirectoryUnavailable``."""
    key = _cache_key(siret)
    try:
        cached = cache.get(key)
    except Exception:  # a cache down must not stop the lookup
        logger.warning("Cache unavailable for the company directory", exc_info=True)
        cached = None
    if cached == UNKNOWN:
        return None
    if isinstance(cached, dict):
        return Establishment(**cached)
    try:
        establishment = _parse(_fetch(siret), siret)
    except DirectoryUnavailable:
        logger.info("Company directory unavailable for a lookup", exc_info=True)
        raise
    except (AttributeError, TypeError) as error:  # an answer of another shape
        raise DirectoryUnavailable("directory answer of an unexpected shape") from error
    try:
        if establishment is None:
            cache.set(key, UNKNOWN, UNKNOWN_CACHE_SECONDS)
        else:
            cache.set(key, asdict(establishment), settings.COMPANY_DIRECTORY_CACHE_SECONDS)
    except Exception:
        logger.warning("Cache unavailable for the company directory", exc_info=True)
    return establishment


def forget(siret: str) -> None:
    """Drop the cached answer of ``siret`` (tests, or a correction in the directory)."""
    cache.delete(_cache_key(siret))
