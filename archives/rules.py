"""Who may take a dossier's or a call's archive away: the Service IVE's instructeurs and
the administrators, never candidates, evaluators or the DDETS (an archive holds every
evaluator's scores and every personal datum of the dossier)."""

from core import rules as core_rules
from core.rules import role_predicate


@role_predicate
def can_archive(user, obj=None) -> bool:
    return core_rules.is_instructeur(user)
