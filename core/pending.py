"""Nothing typed is lost when a session expires in the middle of a long form.

When a POST reaches a view marked ``keeps_unsent_post`` without a session, the login
middleware keeps its fields in the new session before sending the person to log in;
after logging in, the form shows them again, to check and save.
"""

from django.http import QueryDict
from django.utils import timezone

SESSION_KEY = "unsent_post"
# What was kept is offered again only shortly after: a stale form is worse than none.
MAX_AGE_SECONDS = 3600


def keep_unsent_post(request) -> None:
    data = QueryDict(mutable=True)
    for key, values in request.POST.lists():
        if key != "csrfmiddlewaretoken":
            data.setlist(key, values)
    request.session[SESSION_KEY] = {
        "path": request.path,
        "data": data.urlencode(),
        "at": timezone.now().timestamp(),
    }


def restore_pending_post(request) -> QueryDict | None:
    """The fields kept for this page, once; None when there are none."""
    kept = request.session.get(SESSION_KEY)
    if not kept or kept.get("path") != request.path:
        return None
    del request.session[SESSION_KEY]
    if timezone.now().timestamp() - kept.get("at", 0) > MAX_AGE_SECONDS:
        return None
    return QueryDict(kept["data"])
