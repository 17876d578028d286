from django.urls import path

from retention import views

app_name = "retention"

urlpatterns = [
    path("gestion/conservation/", views.RetentionView.as_view(), name="index"),
    path("gestion/conservation/generer/", views.GenerateView.as_view(), name="generate"),
    path(
        "gestion/conservation/bordereaux/<int:pk>/",
        views.BordereauView.as_view(),
        name="bordereau",
    ),
    path(
        "gestion/conservation/bordereaux/<int:pk>/bordereau.<str:fmt>",
        views.BordereauDocumentView.as_view(),
        name="bordereau_document",
    ),
    path(
        "gestion/conservation/bordereaux/<int:pk>/<slug:action>/",
        views.BordereauActionView.as_view(),
        name="bordereau_action",
    ),
]
