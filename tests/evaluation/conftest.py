import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from aap.models import Call, Criterion, SubCriterion
from candidatures import services as dossier_services
from candidatures.models import Candidature
from evaluation import services
from tests.candidatures.conftest import fill
from tests.factories import OrganisationFactory, UserFactory, as_draft, dossier_ready_call


@pytest.fixture
def graded_call(db):
    return make_graded_call()


def make_graded_call():
    """An open call whose grid is hand-computable: A weighs 40 (2 sub-criteria), B 35 (1),
    C 25 (2), on a 0 to 4 scale. One point is worth 5, 8.75 and 3.125 points out of 100."""
    call = dossier_ready_call()
    Criterion.objects.filter(call=call).delete()
    with as_draft(call):
        for position, (title, weight, subs) in enumerate(
            [("A", "40", ["A1", "A2"]), ("B", "35", ["B1"]), ("C", "25", ["C1", "C2"])], start=1
        ):
            criterion = Criterion.objects.create(
                call=call, position=position, title=title, weight=Decimal(weight)
            )
            for sub_position, sub in enumerate(subs, start=1):
                SubCriterion.objects.create(criterion=criterion, position=sub_position, title=sub)
    return call


@pytest.fixture
def evaluators(db):
    return [
        UserFactory(
            email=f"evaluateur{n}@isere.test",
            first_name="Éva",
            last_name=f"Luatrice {n}",
            roles=["evaluateur"],
        )
        for n in (1, 2)
    ]


def submitted_dossier(call, name, *, lot=None):
    """A complete dossier of a new organisation, submitted while the call is open."""
    member = UserFactory(roles=["candidat"])
    dossier = Candidature.objects.create(
        call=call, organisation=OrganisationFactory(name=name, members=[member])
    )
    fill(dossier, member)
    if lot is not None:
        dossier.lots.set([lot])
    # Received a few minutes ago, so that the deadline can pass "now" right after.
    dossier_services.submit_candidature(
        dossier, by=member, received_at=timezone.now() - dt.timedelta(minutes=5), certified=True
    )
    return dossier


def close(call):
    """The deadline passes."""
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    call.refresh_from_db()


def admitted(call, names, *, by_instructeur, lot=None):
    """Dossiers submitted on time, then the deadline passes and they are admitted."""
    dossiers = [submitted_dossier(call, name, lot=lot) for name in names]
    close(call)
    for dossier in dossiers:
        dossier.refresh_from_db()
        services.decide_admissibility(dossier, by=by_instructeur, admissible=True)
    return dossiers


def score(dossier, evaluator, *, by_instructeur, points: dict[str, int], submit=True):
    """Assign ``evaluator``, declare no conflict, score (sub-criterion title → points)."""
    assignment = services.assign(dossier, evaluator, by=by_instructeur)
    services.declare_conflict(assignment, by=evaluator, has_conflict=False)
    subs = {s.title: s for s in SubCriterion.objects.filter(criterion__call=dossier.call)}
    evaluation = services.save_evaluation(
        assignment,
        by=evaluator,
        scores={subs[title].pk: value for title, value in points.items()},
        justifications={c.pk: f"Justification {c.title}" for c in dossier.call.criteria.all()},
        comment="Appréciation générale",
    )
    if submit:
        services.submit_evaluation(evaluation, by=evaluator)
    return evaluation
