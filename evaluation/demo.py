"""The instruction of the demonstration call's fictional dossiers (``aap.demo.loader``).

Through the services an instructeur uses: paper copies, admissibility (which moves the
call under review), the grid, assignments, declarations of interest and the
instructeur's evaluations, submitted (the first one freezes the grid). The evaluator's
evaluations are left to do, so that the demo evaluator has work; no opinion and no
decision, which the demo accounts give themselves.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from aap.deadlines import local_datetime
from aap.models import User
from candidatures.demo import ORGANISATIONS
from candidatures.followup import record_paper_copy
from candidatures.models import Identical, PaperMethod
from evaluation import services
from evaluation.models import DEFAULT_LEVELS

# The one fictional dossier declared inadmissible: its paper copy never came.
INADMISSIBLE = "Association fictive Clauses et Territoires (démonstration)"
INADMISSIBLE_REASON = (
    "L'exemplaire papier exigé par l'appel à projets n'est pas parvenu au Service IVE : le "
    "dossier n'a pas été adressé en deux exemplaires identiques, papier et électronique."
)

# The instructeur's scores, sub-criterion by sub-criterion in the grid's order (0 to 4).
SCORES = {
    ORGANISATIONS[0].name: [4, 3, 3, 4, 3, 3, 4],
    ORGANISATIONS[1].name: [3, 3, 2, 3, 3, 2, 3],
    ORGANISATIONS[2].name: [3, 4, 4, 3, 3, 4, 3],
}
JUSTIFICATION = (
    "Appréciation de démonstration : le dossier répond au critère, avec des actions "
    "précises et un calendrier réaliste."
)


def instruct_demo_dossiers(dossiers, *, instructeur: User, evaluator: User) -> dict:
    """Instruct the submitted ``dossiers``; return what was done, for the loader's report."""
    call = dossiers[0].call
    admissible = []
    for dossier in dossiers:
        name = dossier.organisation.name
        if name == INADMISSIBLE:
            services.decide_admissibility(
                dossier, by=instructeur, admissible=False, reason=INADMISSIBLE_REASON
            )
            continue
        sent_on = timezone.localtime(dossier.submitted_at).date()
        record_paper_copy(
            dossier,
            by=instructeur,
            method=PaperMethod.MAIL,
            postmarked_on=sent_on,
            received_on=sent_on + dt.timedelta(days=2),
            identical=Identical.YES,
        )
        services.decide_admissibility(dossier, by=instructeur, admissible=True)
        admissible.append(dossier)

    services.update_grid(
        call,
        by=instructeur,
        scale_max=4,
        levels=list(DEFAULT_LEVELS),
        # Two weeks ahead, at 17:00 on a Paris clock, like the call's deadline.
        due_at=local_datetime(timezone.localdate() + dt.timedelta(days=14), dt.time(17, 0)),
        evaluators_per_dossier=2,
        disagreement_threshold=Decimal("15"),
        weights={criterion.pk: criterion.weight for criterion in call.criteria.all()},
    )
    subcriteria = [
        sub.pk
        for criterion in call.criteria.prefetch_related("subcriteria")
        for sub in criterion.subcriteria.all()
    ]
    for index, dossier in enumerate(admissible):
        own = services.assign(dossier, instructeur, by=instructeur)
        services.declare_conflict(own, by=instructeur, has_conflict=False)
        theirs = services.assign(dossier, evaluator, by=instructeur)
        # The demo evaluator declares its interests on the first dossier itself.
        if index:
            services.declare_conflict(theirs, by=evaluator, has_conflict=False)
        evaluation = services.save_evaluation(
            own,
            by=instructeur,
            scores=dict(zip(subcriteria, SCORES[dossier.organisation.name], strict=True)),
            justifications={criterion.pk: JUSTIFICATION for criterion in call.criteria.all()},
            comment="Évaluation de démonstration.",
        )
        services.submit_evaluation(evaluation, by=instructeur)
    return {"admissible": len(admissible), "inadmissible": len(dossiers) - len(admissible)}
