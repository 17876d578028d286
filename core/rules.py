"""Who may do what: the roles' predicates of (user, object), used by views and services
alike. Each app adds its own rules on its objects in its ``rules.py``."""

from core.roles import Role


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
