from django.urls import path

from core.legal import views

app_name = "legal"

urlpatterns = [
    path("mentions-legales/", views.NoticeView.as_view(), name="notice"),
    path("donnees-personnelles/", views.PrivacyView.as_view(), name="privacy"),
    path("accessibilite/", views.AccessibilityView.as_view(), name="accessibility"),
    path("plan-du-site/", views.SitemapView.as_view(), name="sitemap"),
]
