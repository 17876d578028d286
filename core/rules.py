"""Who may do what: the roles' predicates of (user, object), used by views and services
alike. Each app adds its own rules on its objects in its ``rules.py``."""

from core.roles import Role


def role_predicate(predicate):
    """Marks a predicate that reads only the user's roles, never the object: a view checks
    it before fetching its object, so that a wrong role gets 403, never 404."""
    predicate.reads_only_roles = True
    return predicate


@role_predicate
def anyone(user, obj=None) -> bool:
    return True


@role_predicate
def is_authenticated(user, obj=None) -> bool:
    return user.is_authenticated


@role_predicate
def is_instructeur(user, obj=None) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_role(Role.INSTRUCTEUR))
    )


@role_predicate
def is_candidat(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.CANDIDAT)


@role_predicate
def is_ddets_reader(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.LECTEUR_DDETS)


@role_predicate
def is_evaluator(user, obj=None) -> bool:
    return user.is_authenticated and user.has_role(Role.EVALUATEUR)


@role_predicate
def is_platform_staff(user, obj=None) -> bool:
    """Département or State staff: a superuser, or anyone with a role other than candidat."""
    return user.is_authenticated and (
        user.is_superuser or any(user.has_role(role) for role in Role if role != Role.CANDIDAT)
    )


def second_factor_mandatory(user, obj=None) -> bool:
    """Staff must log in with a second factor (core.accounts.mfa); candidates may."""
    return user.is_authenticated and (user.is_staff or is_platform_staff(user))


def may_turn_off_second_factor(user, obj=None) -> bool:
    return user.is_authenticated and not second_factor_mandatory(user)
