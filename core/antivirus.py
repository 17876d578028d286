"""Scanning uploads with a ClamAV daemon (clamd), when ``CLAMD_URL`` is set.

The scan fails closed: when clamd is configured but does not answer, the upload is
refused with a message asking to try again, never stored unscanned.
"""

import logging
from urllib.parse import urlparse

from clamav_client import clamd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def _client(timeout: float | None = None):
    url = urlparse(settings.CLAMD_URL)
    timeout = timeout or settings.CLAMD_TIMEOUT
    if url.scheme == "unix":
        return clamd.ClamdUnixSocket(path=url.path, timeout=timeout)
    if url.scheme == "tcp":
        return clamd.ClamdNetworkSocket(host=url.hostname, port=url.port or 3310, timeout=timeout)
    raise ValueError(f"CLAMD_URL must start with unix:// or tcp://, not {settings.CLAMD_URL!r}")


def status() -> str:
    """For the readiness check: "ok" when clamd answers PING within two seconds,
    "unavailable" when it does not (uploads are refused meanwhile), "not_configured"
    without ``CLAMD_URL`` (uploads are not scanned)."""
    if not settings.CLAMD_URL:
        return "not_configured"
    try:
        return "ok" if _client(timeout=2).ping() == "PONG" else "unavailable"
    except (clamd.ClamdError, OSError):
        return "unavailable"


def scan(handle, *, name: str) -> None:
    """Raise a French ``ValidationError`` if the file is infected or cannot be scanned."""
    if not settings.CLAMD_URL:
        return
    handle.seek(0)
    # The client wraps only connecting and reading in ClamdError: a timeout or a closed
    # connection while sending (clamd stops reading past StreamMaxLength) is an OSError.
    try:
        result = _client().instream(handle)
    except (clamd.ClamdError, OSError) as error:
        logger.error("clamd did not scan %s: %s", name, error)
        raise ValidationError(
            _(
                "Le fichier « %(name)s » n'a pas pu être analysé par l'antivirus, indisponible "
                "pour le moment : il n'a pas été enregistré. Réessayez dans quelques minutes."
            )
            % {"name": name},
            code="antivirus_unavailable",
        ) from error
    finally:
        handle.seek(0)
    status, signature = result.get("stream", ("ERROR", None))
    if status == "FOUND":
        raise found(signature or "", name=name)
    if status != "OK":
        raise ValidationError(
            _(
                "L'antivirus n'a pas pu analyser le fichier « %(name)s » : il n'a pas été enregistré."
            )
            % {"name": name},
            code="antivirus_error",
        )


def found(signature: str, *, name: str) -> ValidationError:
    """The refusal of a file clamd reported with ``signature``. ``Heuristics.*`` names what
    clamd would not vouch for (deploy/clamav/clamd.conf): an encrypted file, one past its
    limits, macros; a virus is named otherwise."""
    values = {"name": name, "signature": signature}
    if signature.startswith("Heuristics.Encrypted."):
        message = _(
            "Le fichier « %(name)s » a été refusé par l'analyse antivirus : il est chiffré ou "
            "protégé par un mot de passe, son contenu ne peut donc pas être vérifié. Il n'a "
            "pas été enregistré. Enregistrez-le sans mot de passe, puis déposez-le à nouveau."
        )
    elif signature.startswith("Heuristics.Limits.Exceeded."):
        message = _(
            "Le fichier « %(name)s » a été refusé par l'analyse antivirus : il est trop "
            "complexe pour être analysé entièrement (trop de fichiers ou d'archives les uns "
            "dans les autres, ou trop volumineux une fois décompressé). Il n'a pas été "
            "enregistré. Enregistrez-le plus simplement (par exemple en PDF, sans archive), "
            "puis déposez-le à nouveau."
        )
    elif signature.startswith("Heuristics.OLE2.ContainsMacros"):
        message = _(
            "Le fichier « %(name)s » a été refusé par l'analyse antivirus : il contient des "
            "macros. Il n'a pas été enregistré. Enregistrez-le sans macro (au format .docx, "
            ".xlsx, .odt, .ods ou en PDF), puis déposez-le à nouveau."
        )
    elif signature.startswith("Heuristics."):
        message = _(
            "Le fichier « %(name)s » a été refusé par l'analyse antivirus (%(signature)s) : il "
            "n'a pas été enregistré."
        )
    else:
        return ValidationError(
            _(
                "Le fichier « %(name)s » contient un virus (%(signature)s) : il a été refusé "
                "et n'a pas été enregistré."
            )
            % values,
            code="infected",
        )
    return ValidationError(message % values, code="antivirus_refused")
