from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware
from django.utils import timezone

from aap import arrival
from aap.pending import keep_unsent_post


class ReceivedAtMiddleware:
    """Note the instant a request reached the platform, before any work: deadlines are
    judged against it ("checked at the moment the request is received"). Behind the
    documented proxy it is the proxy's arrival stamp (``aap.arrival``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.received_at = arrival.received_at(request.META, started=timezone.now())
        return self.get_response(request)


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    """Django's deny-by-default middleware, which also keeps a long form's fields when
    the session expired while it was being typed (see ``aap.pending``)."""

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
