"""Who may do what with agreements: instructeurs manage them, the DDETS reads them and
remarks on progress reviews, members of the organisation follow their own."""

from candidatures import rules as dossier_rules
from core import rules as core_rules
from core.rules import role_predicate


@role_predicate
def can_read_conventions(user, obj=None) -> bool:
    """Instructeurs and the DDETS read every agreement, review and indicator."""
    return core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user)


@role_predicate
def can_manage_conventions(user, obj=None) -> bool:
    """Instructeurs of the Service IVE create, move, pay and renew agreements."""
    return core_rules.is_instructeur(user)


@role_predicate
def can_remark(user, review=None) -> bool:
    """The DDETS's only write here; instructeurs may answer on the same thread."""
    return core_rules.is_ddets_reader(user) or core_rules.is_instructeur(user)


def is_convention_member(user, convention) -> bool:
    return convention is not None and dossier_rules.is_member(user, convention.organisation)


def is_report_member(user, report) -> bool:
    return report is not None and is_convention_member(user, report.convention)
