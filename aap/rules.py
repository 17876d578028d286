"""Who may do what: predicates of (user, object) used by views and services alike."""

from aap.roles import Role


def anyone(user, obj=None) -> bool:
    return True


def is_authenticated(user, obj=None) -> bool:
    return user.is_authenticated


def is_instructeur(user, obj=None) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_role(Role.INSTRUCTEUR))
    )


def is_candidat(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.CANDIDAT)


def is_ddets_reader(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.LECTEUR_DDETS)


def is_evaluator(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.EVALUATEUR)


def is_platform_staff(user, obj=None) -> bool:
    return user.is_authenticated and user.is_platform_staff


def can_manage_call(user, call=None) -> bool:
    """Instructeurs of the Service IVE create, edit, publish and answer for calls."""
    return is_instructeur(user)


def can_ask_question(user, call) -> bool:
    """A signed-in candidate may ask about a call while it takes dossiers."""
    return is_candidat(user) and call is not None and call.is_open()
