from django.contrib import admin
from django.urls import include, path

from core.accounts.views import calendar_feed
from core.views.health import healthz, readyz

# Without a database the error page still answers: 503, « réessayez dans un instant ».
handler500 = "core.views.errors.server_error"

admin.site.site_header = "Appels à projets – administration"
admin.site.site_title = "Administration"

urlpatterns = [
    path("", include("aap.urls")),
    path("", include("candidatures.urls")),
    path("", include("evaluation.urls")),
    path("", include("conventions.urls")),
    path("", include("retention.urls")),
    path("", include("archives.urls")),
    path("", include("api.urls")),
    path("compte/", include("core.accounts.urls")),
    path("", include("core.legal.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("agenda/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
