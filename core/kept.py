"""What the platform keeps in the cache under a key naming its content (a PDF, a page, a
form, a workbook): read, made when missing, kept. A cache that fails costs a making, never
an error: each failure is logged (« Cache unavailable ») and the caller goes on."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def read(key: str, what: str):
    """The value kept under ``key``, or None when there is none or the cache fails."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Cache unavailable: %s made again", what, exc_info=True)
        return None


def keep(key: str, value, seconds: int, what: str) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("Cache unavailable: %s not kept", what, exc_info=True)


def kept(key: str, make, seconds: int, what: str):
    """The value kept under ``key``, else ``make()``, then kept for ``seconds``."""
    value = read(key, what)
    if value is None:
        value = make()
        keep(key, value, seconds, what)
    return value
