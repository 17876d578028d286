"""The instruction of the demonstration calls' fictional dossiers (``demo.loader``).

Through the services an instructeur uses: paper copies, admissibility (which moves the
call under review), the grid, assignments, declarations of interest and the
instructeur's evaluations, submitted (the first one freezes the grid). In the call in
instruction the evaluator's evaluations are left to do, so that the demo evaluator has
work, with no opinion and no decision, which the demo accounts give themselves. In the
call whose agreements are running, ``decide_demo_dossiers`` goes on to the DDETS's
opinions, the committee's decisions and records and the notification letters.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from candidatures.followup import record_paper_copy
from candidatures.models import Identical, PaperMethod
from core.dates import local_datetime
from core.models import User
from demo.dossiers import CONVENTION_ORGANISATIONS, ORGANISATIONS
from evaluation import committee, letters, services
from evaluation.models import DEFAULT_LEVELS, Interests, Seat
from evaluation.states import DecisionOutcome, OpinionKind

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
    CONVENTION_ORGANISATIONS[1].name: [4, 4, 3, 3, 4, 3, 4],
    CONVENTION_ORGANISATIONS[2].name: [2, 3, 2, 3, 2, 2, 3],
}
# The demo evaluator's, where it has scored too (the call whose agreements are running).
SECOND_SCORES = {
    ORGANISATIONS[0].name: [4, 4, 3, 3, 3, 4, 4],
    CONVENTION_ORGANISATIONS[1].name: [4, 3, 3, 4, 4, 3, 3],
    CONVENTION_ORGANISATIONS[2].name: [3, 3, 2, 2, 3, 2, 2],
}
JUSTIFICATION = (
    "Appréciation de démonstration : le dossier répond au critère, avec des actions "
    "précises et un calendrier réaliste."
)


def instruct_demo_dossiers(
    dossiers,
    *,
    instructeur: User,
    evaluator: User,
    evaluator_scores: bool = False,
    due_at: dt.datetime | None = None,
) -> dict:
    """Instruct the submitted ``dossiers``; return what was done, for the loader's report.
    With ``evaluator_scores`` the evaluator declares and submits its evaluations too
    (``SECOND_SCORES``); ``due_at`` is the scoring due date (two weeks ahead by default)."""
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
        due_at=due_at
        or local_datetime(timezone.localdate() + dt.timedelta(days=14), dt.time(17, 0)),
        evaluators_per_dossier=2,
        disagreement_threshold=Decimal("15"),
        weights={criterion.pk: criterion.weight for criterion in call.criteria.all()},
    )
    subcriteria = [
        sub.pk
        for criterion in call.criteria.prefetch_related("subcriteria")
        for sub in criterion.subcriteria.all()
    ]
    criteria = list(call.criteria.all())
    for index, dossier in enumerate(admissible):
        own = services.assign(dossier, instructeur, by=instructeur)
        services.declare_conflict(own, by=instructeur, has_conflict=False)
        theirs = services.assign(dossier, evaluator, by=instructeur)
        # The demo evaluator declares its interests on the first dossier itself, unless it
        # has scored every dossier already.
        if index or evaluator_scores:
            services.declare_conflict(theirs, by=evaluator, has_conflict=False)
        _score(own, instructeur, subcriteria, criteria, SCORES)
        if evaluator_scores:
            _score(theirs, evaluator, subcriteria, criteria, SECOND_SCORES)
    return {"admissible": len(admissible), "inadmissible": len(dossiers) - len(admissible)}


def _score(assignment, evaluator: User, subcriteria, criteria, grid: dict) -> None:
    evaluation = services.save_evaluation(
        assignment,
        by=evaluator,
        scores=dict(zip(subcriteria, grid[assignment.candidature.organisation.name], strict=True)),
        justifications={criterion.pk: JUSTIFICATION for criterion in criteria},
        comment="Évaluation de démonstration.",
    )
    services.submit_evaluation(evaluation, by=evaluator)


@dataclass(frozen=True)
class DemoDecision:
    outcome: str
    opinion: str  # the DDETS's
    comment: str
    fte: Decimal | None = None


# The committee of the call whose agreements are running, dossier by dossier: one selected
# per lot, within its budget, and one on the waiting list.
DECISIONS = {
    CONVENTION_ORGANISATIONS[0].name: DemoDecision(
        outcome=DecisionOutcome.SELECTED,
        fte=Decimal("0.50"),
        opinion=OpinionKind.FAVOURABLE,
        comment="Avis favorable : un EPCI prioritaire, déjà engagé avec ses voisins du Nord Isère.",
    ),
    CONVENTION_ORGANISATIONS[1].name: DemoDecision(
        outcome=DecisionOutcome.SELECTED,
        fte=Decimal("0.50"),
        opinion=OpinionKind.FAVOURABLE,
        comment="Avis favorable : le projet couvre enfin le Trièves et le Vercors.",
    ),
    CONVENTION_ORGANISATIONS[2].name: DemoDecision(
        outcome=DecisionOutcome.WAITING_LIST,
        opinion=OpinionKind.RESERVED,
        comment="Avis réservé : l'association n'anime pas encore de réseau d'acheteurs.",
    ),
}


def decide_demo_dossiers(dossiers, *, instructeur: User, ddets: User) -> int:
    """The DDETS's opinions, the committee's decisions on each dossier's lot (the amount
    asked for, within the lot's budget), each lot's committee record, then the letters,
    which mark the call decided. Returns the number of letters."""
    call = dossiers[0].call
    for dossier in dossiers:
        dossier.refresh_from_db()  # the amount asked for, as the form's answer set it
        spec = DECISIONS[dossier.organisation.name]
        services.record_opinion(dossier, by=ddets, kind=spec.opinion, comment=spec.comment)
        selected = spec.outcome == DecisionOutcome.SELECTED
        services.record_decision(
            dossier,
            dossier.lots.get(),
            by=instructeur,
            outcome=spec.outcome,
            amount_granted=dossier.requested_amount if selected else None,
            fte_granted=spec.fte,
        )
    meeting = hold_demo_committee(call, dossiers, instructeur=instructeur, ddets=ddets)
    for lot in call.lots.all():
        committee.freeze_committee(call, lot, by=instructeur, meeting=meeting)
    queued = letters.notify_decisions(call, by=instructeur)
    # Sent here rather than by the worker: the demo shows them as soon as it is loaded.
    letters.send_queued_letters(call)
    return queued


# The committee met the day before the decisions were recorded (the loading), at 14:00:
# the Département's and the State's members present, one of them linked to a dossier.
# Names are fictional; the secretary and the DDETS's member are the demo accounts.
COMMITTEE_PLACE = "Hôtel du Département, salle du conseil, Grenoble (démonstration)"


def hold_demo_committee(call, dossiers, *, instructeur: User, ddets: User):
    """The meeting of ``call``'s selection committee, its members present and their
    declarations of interests, meeting the call's default quorum rule."""
    day = timezone.localdate() - dt.timedelta(days=1)
    meeting = committee.create_meeting(
        call, by=instructeur, starts_at=local_datetime(day, dt.time(14, 0)), place=COMMITTEE_PLACE
    )
    waiting = next(d for d in dossiers if DECISIONS[d.organisation.name].outcome == "waiting_list")
    members = [
        (
            "Nadia Exemple",
            "Département de l'Isère",
            "Vice-présidente déléguée à l'insertion (fictive)",
            Seat.CHAIR,
            False,
            None,
            [],
        ),
        (
            instructeur.get_full_name(),
            "Département de l'Isère",
            instructeur.job_title,
            Seat.SECRETARY,
            False,
            instructeur,
            [],
        ),
        (ddets.get_full_name(), "DDETS de l'Isère", ddets.job_title, Seat.MEMBER, True, ddets, []),
        (
            "Paul Exemple",
            "Département de l'Isère",
            "Conseiller départemental (fictif)",
            Seat.MEMBER,
            False,
            None,
            [waiting],
        ),
    ]
    for name, organisation, role, seat, is_ddets, user, linked in members:
        committee.save_member(
            meeting,
            by=instructeur,
            name=name,
            organisation=organisation,
            role=role,
            seat=seat,
            is_ddets=is_ddets,
            user=user,
            interests=Interests.DECLARED if linked else Interests.NONE,
            dossiers=linked,
            nature="Membre du conseil d'administration de l'association (démonstration)"
            if linked
            else "",
        )
    return meeting
