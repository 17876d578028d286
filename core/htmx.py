"""Pages that also answer htmx's requests with a fragment (``templates/<app>/partials``).

The same view serves a whole page to a browser without JavaScript (a POST then a
redirect) and a fragment to htmx, which swaps it in place. ``Vary: HX-Request`` keeps a
cache from giving one for the other.
"""

from django.utils.cache import patch_vary_headers


def is_htmx(request) -> bool:
    # htmx sends "HX-Request: true"; a history restore ("HX-History-Restore-Request")
    # wants the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(response):
    patch_vary_headers(response, ["HX-Request"])
    return response
