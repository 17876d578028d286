from django.contrib.auth.models import AnonymousUser

from core import rules
from core.accounts import mfa


def platform(request):
    """What the layout needs to show the right menu to each role.

    A request refused before the authentication middleware ran (a ``Host`` that is not
    allowed answers 400 from ``CommonMiddleware``) has no user: the menu is then a
    visitor's."""
    user = getattr(request, "user", None) or AnonymousUser()
    if user.is_authenticated and hasattr(request, "session") and mfa.pending_step(request):
        # Until the second factor is passed, no menu leads to pages it would not open.
        user = AnonymousUser()
    return {
        "nav_is_instructeur": rules.is_instructeur(user),
        "nav_is_candidat": rules.is_candidat(user),
        "nav_is_ddets": rules.is_ddets_reader(user),
        "nav_is_evaluator": rules.is_evaluator(user),
    }
