"""Who may do what with agreements: instructeurs manage them, the DDETS reads them and
remarks on progress reviews, members of the organisation follow their own."""

from aap import rules as aap_rules
from candidatures import rules as dossier_rules


def can_read_conventions(user, obj=None) -> bool:
    """Instructeurs and the DDETS read every agreement, review and indicator."""
    return aap_rules.is_instructeur(user) or aap_rules.is_ddets_reader(user)


def can_manage_conventions(user, obj=None) -> bool:
    """Instructeurs of the Service IVE create, move, pay and renew agreements."""
    return aap_rules.is_instructeur(user)


def can_remark(user, review=None) -> bool:
    """The DDETS's only write here; instructeurs may answer on the same thread."""
    return aap_rules.is_ddets_reader(user) or aap_rules.is_instructeur(user)


def is_convention_member(user, convention) -> bool:
    return convention is not None and dossier_rules.is_member(user, convention.organisation)


def is_report_member(user, report) -> bool:
    return report is not None and is_convention_member(user, report.convention)
