"""Throttles: how often something may happen per client address, account or e-mail
address, whatever the account, so that guessing passwords across accounts, creating
accounts or sending e-mails in bulk stops early.

Each limit has a name and a rate in ``settings.THROTTLES`` (``name: (count, seconds)``,
read from the environment). Counters are fixed windows of that many seconds in Django's
default cache: ``cache.add`` creates the window's counter, ``cache.incr`` counts
atomically, so two servers sharing a Redis cache (``CACHE_URL``) share the counts; a
per-process cache (locmem, the default) counts per process. The window's number is part
of the key, so a counter never outlives its window in meaning, and the key holds an HMAC
of the address, never the address itself.

A cache that fails lets everyone through (logged): a throttle must not take the login page
down with Redis. This process then leaves the cache alone for ``PAUSE_SECONDS``, so that a
cache that hangs costs one request its timeout, not every request.
"""

import logging
import math
import time
from dataclasses import dataclass
from ipaddress import ip_network

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.client_ip import client_ip

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 10
# A counter lives this long after its window ends, so that it never expires between the
# ``add`` and the ``incr`` of a request at the end of the window.
EXPIRY_MARGIN_SECONDS = 60

_cache_paused_until = 0.0


@dataclass(frozen=True)
class Count:
    """One attempt counted against one limit."""

    name: str
    cache_key: str
    count: int
    limit: int
    retry_after: int  # seconds until the window ends

    @property
    def over(self) -> bool:
        return self.count > self.limit


class Throttled(Exception):
    """A limit is reached: try again in ``retry_after`` seconds (``wait``, in French)."""

    def __init__(self, *, names: list[str], retry_after: int):
        super().__init__(f"throttled: {', '.join(names)} for {retry_after} s")
        self.names = names
        self.retry_after = retry_after

    @property
    def wait(self) -> str:
        return wait_text(self.retry_after)


def wait_text(seconds: int) -> str:
    """« 15 minutes », « 1 heure et 5 minutes »: rounded up, never a shorter wait."""
    hours, minutes = divmod(max(1, math.ceil(seconds / 60)), 60)
    minutes_text = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if not hours:
        return minutes_text
    hours_text = ngettext("%(count)d heure", "%(count)d heures", hours) % {"count": hours}
    if not minutes:
        return hours_text
    return _("%(hours)s et %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}


def ip_key(request) -> str:
    """The key of the client's address: an IPv6 client is its /64, as one subscriber
    usually holds a whole /64 and could otherwise change address at each attempt."""
    address = client_ip(request)
    if ":" in address:
        try:
            return str(ip_network(f"{address}/64", strict=False))
        except ValueError:
            pass
    return address


def _cache_key(name: str, key: str, window: int) -> str:
    digest = salted_hmac("core.throttle", f"{name}\0{key}", algorithm="sha256").hexdigest()
    return f"throttle:{name}:{window}:{digest[:40]}"


def _increment(cache_key: str, timeout: int) -> int | None:
    """The counter after this attempt, or None when the cache is unavailable."""
    global _cache_paused_until
    if time.monotonic() < _cache_paused_until:
        return None
    try:
        cache.add(cache_key, 0, timeout)
        return cache.incr(cache_key)
    except ValueError:  # gone between add and incr: a cache cleared meanwhile
        return None
    except Exception:  # any cache error: let the attempt through rather than block users
        _cache_paused_until = time.monotonic() + PAUSE_SECONDS
        logger.warning(
            "Cache unavailable: throttles are not applied for %s s", PAUSE_SECONDS, exc_info=True
        )
        return None


def hit(*counters: tuple[str, str]) -> list[Count]:
    """Count one attempt against each ``(limit name, key)`` and return the counts; raise
    ``Throttled`` when any of them is over its limit (the attempt is counted all the same:
    insisting does not help, and the window still ends when it ends)."""
    if not settings.THROTTLE_ENABLED:
        return []
    now = time.time()
    counts = []
    for name, key in counters:
        limit, period = settings.THROTTLES[name]
        window = int(now // period)
        left = (window + 1) * period - now
        cache_key = _cache_key(name, key, window)
        value = _increment(cache_key, math.ceil(left) + EXPIRY_MARGIN_SECONDS)
        if value is not None:
            counts.append(Count(name, cache_key, value, limit, max(1, math.ceil(left))))
    over = [count for count in counts if count.over]
    if over:
        for count in over:
            logger.info(
                "Throttle %s: attempt %s of %s refused", count.name, count.count, count.limit
            )
        raise Throttled(
            names=[count.name for count in over],
            retry_after=max(count.retry_after for count in over),
        )
    return counts


def refund(counts: list[Count]) -> None:
    """Take back attempts that turned out not to count (a successful login)."""
    for count in counts:
        try:
            cache.decr(count.cache_key)
        except ValueError:  # the window's counter is gone already
            pass
        except Exception:
            logger.warning("Cache unavailable: attempt not refunded", exc_info=True)


def refused(view, form, error: Throttled, message: str | None = None):
    """The view's page again, its form showing ``message`` (or the error already added to
    it), as 429 « Too Many Requests » with ``Retry-After``."""
    if message is not None:
        form.add_error(None, message)
    response = view.render_to_response(view.get_context_data(form=form), status=429)
    response["Retry-After"] = str(error.retry_after)
    return response
