from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, **kwargs) -> str:
    """The full address of a page, for e-mails, PDFs and QR codes (``SITE_URL``)."""
    return f"{settings.SITE_URL}{reverse(viewname, kwargs=kwargs or None)}"
