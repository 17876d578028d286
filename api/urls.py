"""The open API's URLs: every view is public (its rule is ``anyone``; the staff
endpoints check their token themselves) and throttled per client address."""

from functools import wraps

from django.http import JsonResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from api import views
from api.endpoints import api
from api.feeds import CallsFeed
from core import rules, throttle
from core.permissions import rule_required

app_name = "api"


def throttled(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            throttle.hit(("api_ip", throttle.ip_key(request)))
        except throttle.Throttled as error:
            response = JsonResponse(
                {"detail": _("Trop de requêtes : réessayez dans %(wait)s.") % {"wait": error.wait}},
                status=429,
            )
            response["Retry-After"] = str(error.retry_after)
            return response
        return view(request, *args, **kwargs)

    return wrapped


def public(view):
    return rule_required(rules.anyone, public=True)(throttled(view))


def _api_patterns():
    """django-ninja's patterns under api/v1/, each view wrapped."""
    patterns, _app, _namespace = api.urls
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        yield path(f"api/v1/{pattern.pattern}", public(pattern.callback), name=pattern.name)


urlpatterns = [
    *_api_patterns(),
    path("appels/flux.atom", public(CallsFeed()), name="calls_feed"),
    path("gestion/api/jetons/", views.TokenListView.as_view(), name="tokens"),
    path(
        "gestion/api/jetons/<int:pk>/revoquer/",
        views.TokenRevokeView.as_view(),
        name="token_revoke",
    ),
]
