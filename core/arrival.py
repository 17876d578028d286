"""The instant a request reached the platform, which decides whether it is on time.

Behind the documented reverse proxy (``deploy/nginx.conf``), the proxy stamps each
request with the instant it arrived: ``X-Request-Start: t=1726585199.950 d=0.050``, the
instant nginx hands the request on (``$msec``, seconds since the epoch) and how long it had
been reading it since its first byte (``$request_time``): the request arrived at ``t - d``.
A bare ``t=<seconds>`` is read too (milliseconds and microseconds, as some proxies write
them, are told apart by their size). A request that waited in the proxy's or the application
server's queue is then judged by its arrival, not by its turn. The stamp is trusted only
from the addresses of ``ARRIVAL_TRUSTED_PROXIES``: anyone else could write the header.

Without a trusted stamp the instant is the one the worker starts the request
(``make run``, a bare gunicorn): then a request waiting in a queue at the deadline is
judged when a worker takes it.
"""

import datetime as dt
import functools
import ipaddress
import logging
import re

from django.conf import settings

logger = logging.getLogger(__name__)

STAMP = re.compile(r"^\s*(?:t=)?(\d{9,17}(?:\.\d{1,9})?)(?:\s+d=(\d{1,6}(?:\.\d{1,9})?))?\s*$")


@functools.cache
def _networks(addresses: tuple[str, ...]):
    return tuple(ipaddress.ip_network(address, strict=False) for address in addresses)


def trusted_proxy(remote_addr: str) -> bool:
    networks = _networks(tuple(settings.ARRIVAL_TRUSTED_PROXIES))
    if not networks or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in networks)


def parse_stamp(value: str) -> dt.datetime | None:
    match = STAMP.match(value or "")
    if match is None:
        return None
    number = float(match.group(1))
    if number > 1e14:  # microseconds
        number /= 1_000_000
    elif number > 1e11:  # milliseconds
        number /= 1_000
    if match.group(2):  # the time nginx spent reading the request before handing it on
        number -= float(match.group(2))
    try:
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def received_at(meta: dict, *, started: dt.datetime) -> dt.datetime:
    """The instant of arrival of a request whose worker started it at ``started``.

    A trusted stamp later than ``started`` (the proxy's clock ahead of ours) counts as
    ``started``: a request cannot arrive after it is handled. A stamp older than the
    longest wait the proxy allows (``ARRIVAL_MAX_WAIT_SECONDS``) is not believed.
    """
    header = meta.get(settings.ARRIVAL_META_KEY)
    if header is None or not trusted_proxy(meta.get("REMOTE_ADDR", "")):
        return started
    stamp = parse_stamp(header)
    if stamp is None:
        logger.warning("Unreadable arrival stamp %r: the start of the request counts", header)
        return started
    if started - stamp > dt.timedelta(seconds=settings.ARRIVAL_MAX_WAIT_SECONDS):
        logger.warning("Arrival stamp %s older than the longest wait: not believed", stamp)
        return started
    return min(stamp, started)
