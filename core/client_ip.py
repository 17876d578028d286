"""The address of the client a request comes from: the one function that throttles
(``core.throttle``) and the failed-login lockout (axes, ``AXES_CLIENT_IP_CALLABLE``) read.

Behind the documented proxy (``deploy/nginx/proxy_pass.conf``), ``REMOTE_ADDR`` is the
proxy's address, and the proxy, being the edge, sets ``X-Forwarded-For`` to the address it
saw (``$remote_addr``), dropping whatever the client wrote there: the header holds that one
address. The header is read only when ``REMOTE_ADDR`` is one of ``ARRIVAL_TRUSTED_PROXIES``
(the same proxies whose arrival stamp is believed), and from its right end: each trusted
proxy is skipped, and the first other address is the client's. So the header may also come
through a chain, such as a load balancer in front of nginx with nginx appending
(``$proxy_add_x_forwarded_for``) and both trusted: whatever lies left of the first
untrusted address was written by the client and could be anything. ``X-Real-IP`` is never
read: the documented proxy does not set it, so a client could.
"""

import ipaddress

from core.arrival import trusted_proxy


def _address(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request) -> str:
    """The client's address, canonical (``::ffff:192.0.2.1`` is ``192.0.2.1``); the
    peer's own address when it is not a trusted proxy, and "" when there is none."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    client = _address(remote) or remote
    if not trusted_proxy(client):
        return client
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            # Unreadable: written by someone we do not trust; the last proxy seen counts.
            break
        client = address
        if not trusted_proxy(address):
            break
    return client
