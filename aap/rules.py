"""Who may do what with calls; the roles' predicates are the kernel's (``core.rules``)."""

from core.rules import is_candidat, is_instructeur, role_predicate


@role_predicate
def can_manage_call(user, call=None) -> bool:
    """Instructeurs of the Service IVE create, edit, publish and answer for calls."""
    return is_instructeur(user)


def can_ask_question(user, call) -> bool:
    """A signed-in candidate may ask about a call while it takes dossiers."""
    return is_candidat(user) and call is not None and call.is_open()


@role_predicate
def can_manage_programmes(user, programme=None) -> bool:
    """Instructeurs keep the list of programmes the calls belong to."""
    return is_instructeur(user)
