from django.urls import path

from archives import views

app_name = "archives"

urlpatterns = [
    path(
        "gestion/dossiers/<int:pk>/archive/",
        views.DossierArchiveView.as_view(),
        name="dossier",
    ),
    path("gestion/appels/<int:pk>/archives/", views.CallArchivesView.as_view(), name="call"),
    path(
        "gestion/appels/<int:pk>/archives/demander/",
        views.RequestCallArchiveView.as_view(),
        name="request",
    ),
    path(
        "gestion/archives/<int:pk>/telecharger/",
        views.CallArchiveDownloadView.as_view(),
        name="download",
    ),
]
