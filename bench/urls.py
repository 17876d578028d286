"""The platform's URLs plus one bare Django view: the ceiling the pages are compared to."""

from django.http import HttpResponse
from django.urls import include, path

from core.permissions import rule_required
from core.rules import anyone


# public=True marks the view ``login_not_required``: like the platform's public pages,
# it goes through every middleware and the rule check, and nothing else.
@rule_required(anyone, public=True)
def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


# As in config.urls: without a database, a 503 « réessayez dans un instant ».
handler500 = "core.views.errors.server_error"

urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("config.urls")),
]
