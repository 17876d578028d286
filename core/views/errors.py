"""Error pages that need no database: they answer when the database does not."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

# A browser, a proxy or a script may try again after this many seconds.
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """A lost database connection (PostgreSQL restarting) is a 503 « réessayez dans un
    instant », with Retry-After; any other error is the plain 500 page."""
    error = sys.exc_info()[1]  # Django calls the handler inside its ``except``
    if isinstance(error, OperationalError | InterfaceError):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response.database_lost = True  # core.middleware.RetryOnLostDatabaseMiddleware
        return response
    return defaults.server_error(request)
