"""Who may do what in the evaluation of dossiers."""

from core import rules as core_rules
from core.rules import role_predicate
from evaluation.states import ConflictStatus, EvaluationStatus


@role_predicate
def can_run_evaluation(user, obj=None) -> bool:
    """Instructeurs run admissibility, assignments, rankings and decisions."""
    return core_rules.is_instructeur(user)


@role_predicate
def can_read_rankings(user, obj=None) -> bool:
    """Instructeurs and the DDETS read rankings and every evaluation."""
    return core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user)


@role_predicate
def can_give_opinion(user, candidature=None) -> bool:
    return core_rules.is_ddets_reader(user)


def is_own_assignment(user, assignment) -> bool:
    return (
        assignment is not None
        and user.is_authenticated
        and assignment.evaluator_id == user.pk
        and core_rules.is_evaluator(user)
    )


def can_score(user, assignment) -> bool:
    """The assigned evaluator, once they declared no conflict of interest."""
    return is_own_assignment(user, assignment) and assignment.conflict == ConflictStatus.NONE


def is_blind_to(user, candidature) -> bool:
    """``user`` is still evaluating this dossier (``queries.blind_dossier_ids``)."""
    from evaluation.queries import blind_dossier_ids

    return candidature.pk in blind_dossier_ids(user, call_id=candidature.call_id)


def can_see_other_scores(user, candidature, own_evaluation=None) -> bool:
    """Blind scoring: an evaluator sees the others' scores only after submitting theirs,
    whatever their other roles; instructeurs and the DDETS otherwise read them all."""
    if is_blind_to(user, candidature):
        return False
    if can_read_rankings(user):
        return True
    return own_evaluation is not None and own_evaluation.status == EvaluationStatus.SUBMITTED
