import logging
import time

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware
from django.db import connections
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import urlencode

from core import arrival
from core.accounts import mfa
from core.pending import keep_unsent_post


class ReceivedAtMiddleware:
    """Note the instant a request reached the platform, before any work: deadlines are
    judged against it ("checked at the moment the request is received"). Behind the
    documented proxy it is the proxy's arrival stamp (``core.arrival``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.received_at = arrival.received_at(request.META, started=timezone.now())
        return self.get_response(request)


logger = logging.getLogger(__name__)


class RetryOnLostDatabaseMiddleware:
    """A request to a view marked ``retry_on_lost_database`` that failed because the
    database went away (PostgreSQL restarting) is run again, with new connections, for
    up to ``DATABASE_RETRY_SECONDS``: it keeps its instant of arrival, so a candidate who
    clicked « Déposer » before the deadline is judged as such, not on a later retry.

    Only views that may run twice are marked: the submission, which finds the dossier
    submitted if the first run had committed. Placed just after ``ReceivedAtMiddleware``.
    """

    PAUSE_SECONDS = 0.5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(response, "database_lost", False) or not self._may_retry(request):
            return response
        give_up_at = time.monotonic() + settings.DATABASE_RETRY_SECONDS
        attempts = 1
        while getattr(response, "database_lost", False) and time.monotonic() < give_up_at:
            time.sleep(self.PAUSE_SECONDS)
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            attempts += 1
            response = self.get_response(request)
        logger.warning(
            "Database lost during %s %s: %s attempt(s), answered %s",
            request.method,
            request.path,
            attempts,
            response.status_code,
        )
        return response

    @staticmethod
    def _may_retry(request) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        view = getattr(match.func, "view_class", match.func)
        return getattr(view, "retry_on_lost_database", False)


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    """Django's deny-by-default middleware, which also keeps a long form's fields when
    the session expired while it was being typed (see ``core.pending``)."""

    def handle_no_permission(self, request, view_func):
        view_class = getattr(view_func, "view_class", None)
        if request.method == "POST" and getattr(view_class, "keeps_unsent_post", False):
            keep_unsent_post(request)
        return super().handle_no_permission(request, view_func)


class PermissionsPolicyMiddleware:
    """Turn off browser features the platform never uses."""

    POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class SecondFactorMiddleware:
    """A logged-in session that still owes its second factor (``core.accounts.mfa``)
    reaches only the page of that step, logging out, the legal pages and the health
    checks: a staff account without a factor is sent to enrolment, an account with one
    to the code, before any other page (the Django admin included)."""

    ALLOWED_ANYWAY = {
        "accounts:logout",
        "healthz",
        "readyz",
        "calendar_feed",  # opened by calendar applications with its token, no session
    }
    ALLOWED_NAMESPACES = {"legal"}
    STEP_URLS = {"verify": "accounts:mfa_verify", "enrol": "accounts:mfa_setup"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.STATIC_URL):
            return None
        step = mfa.pending_step(request)
        if step is None:
            return None
        match = request.resolver_match
        step_url = self.STEP_URLS[step]
        if match is not None and (
            match.view_name in self.ALLOWED_ANYWAY
            or match.view_name == step_url
            or self.ALLOWED_NAMESPACES.intersection(match.namespaces)
        ):
            return None
        target = reverse(step_url)
        if request.method == "GET" and request.path_info != target:
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return HttpResponseRedirect(target)
