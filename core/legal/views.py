"""The legal pages every public website publishes: mentions légales, données personnelles
(RGPD art. 13), déclaration d'accessibilité (RGAA 4.1) and plan du site. Their particulars
come from the settings (``LEGAL_*``, ``RETENTION_DAYS``), none is written in a template."""

from django.conf import settings
from django.views.generic import TemplateView

from core.legal import accessibility, retention, sitemap
from core.permissions import PublicMixin


def particulars():
    return {
        "publisher": settings.LEGAL_PUBLISHER,
        "publisher_address": settings.LEGAL_PUBLISHER_ADDRESS,
        "publisher_phone": settings.LEGAL_PUBLISHER_PHONE,
        "publication_director": settings.LEGAL_PUBLICATION_DIRECTOR,
        "service": settings.LEGAL_SERVICE,
        "contact_email": settings.LEGAL_CONTACT_EMAIL,
        "host_name": settings.LEGAL_HOST_NAME,
        "host_address": settings.LEGAL_HOST_ADDRESS,
        "host_phone": settings.LEGAL_HOST_PHONE,
        "dpo_name": settings.LEGAL_DPO_NAME,
        "dpo_email": settings.LEGAL_DPO_EMAIL,
        "dpo_address": settings.LEGAL_DPO_ADDRESS,
        "accessibility_email": settings.LEGAL_ACCESSIBILITY_EMAIL,
        "site_url": settings.SITE_URL,
    }


class LegalPageView(PublicMixin, TemplateView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(legal=particulars(), **kwargs)


class NoticeView(LegalPageView):
    template_name = "legal/notice.html"


class PrivacyView(LegalPageView):
    template_name = "legal/privacy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            retention=retention.retention_periods(),
            account_warning_days=settings.RETENTION_ACCOUNT_WARNING_DAYS,
            **kwargs,
        )


class AccessibilityView(LegalPageView):
    template_name = "legal/accessibility.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(run=accessibility.read(), **kwargs)


class SitemapView(LegalPageView):
    template_name = "legal/sitemap.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(sections=sitemap.sections_for(self.request.user), **kwargs)
