"""Error pages that need no database: they answer when the database does not."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

from core.storage import is_storage_error

# A browser, a proxy or a script may try again after this many seconds.
RETRY_AFTER_SECONDS = 5
# A full disk needs someone to act: there is no point trying again in seconds.
STORAGE_RETRY_AFTER_SECONDS = 15 * 60


def server_error(request):
    """A lost database connection (PostgreSQL restarting) is a 503 « réessayez dans un
    instant », with Retry-After; so is a disk that cannot take a file (full, read-only),
    met while an upload is read or stored (``core.storage``), with « réessayez plus
    tard »; any other error is the plain 500 page."""
    error = sys.exc_info()[1]  # Django calls the handler inside its ``except``
    if isinstance(error, OperationalError | InterfaceError):
        response = unavailable("database")
        response.database_lost = True  # core.middleware.RetryOnLostDatabaseMiddleware
        return response
    if error is not None and is_storage_error(error):
        return unavailable("storage", retry_after=STORAGE_RETRY_AFTER_SECONDS)
    return defaults.server_error(request)


def unavailable(reason: str, retry_after: int = RETRY_AFTER_SECONDS) -> HttpResponse:
    """The 503 page, without the database (the layout's menu would need it)."""
    response = HttpResponse(loader.get_template("503.html").render({"reason": reason}), status=503)
    response["Retry-After"] = str(retry_after)
    return response
