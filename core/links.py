from collections.abc import Callable

from django.conf import settings
from django.urls import reverse

# An id no row has, reversed in place of the real ones (``absolute_urls``).
_PLACEHOLDER = 987654321987654321


def absolute_url(viewname: str, **kwargs) -> str:
    """The full address of a page, for e-mails, PDFs and QR codes (``SITE_URL``)."""
    return f"{settings.SITE_URL}{reverse(viewname, kwargs=kwargs or None)}"


def absolute_urls(viewname: str) -> Callable[[int], str]:
    """``absolute_url(viewname, pk=…)`` for many rows: reversed once, with a placeholder
    where the id goes, and each row's id put in its place (a sweep of thousands of
    reminders would reverse once per row)."""
    head, _placeholder, tail = absolute_url(viewname, pk=_PLACEHOLDER).partition(str(_PLACEHOLDER))
    return lambda pk: f"{head}{int(pk)}{tail}"
