"""Who may see and act on the retention of data: the platform's administrators only
(superusers: ``core.roles``), never an instructeur, an evaluator, the DDETS or a candidate."""

from core.rules import role_predicate


@role_predicate
def is_administrator(user, obj=None) -> bool:
    return user.is_authenticated and user.is_active and user.is_superuser
