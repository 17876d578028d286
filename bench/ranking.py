"""The ranking of a lot at 1,000 dossiers × 3 evaluations × 7 sub-criteria (issue 4).

``prepare`` adds to the bench database a call under review with two lots: the large one
holds 1,000 admissible submitted dossiers, the small one 3, built the same way. The grid
has 3 criteria of 2, 2 and 3 sub-criteria, frozen by ``evaluation.services.lock_grid``
(which stores the ``SubCriterionFactor`` rows); 3 evaluators each submitted an evaluation
of every dossier (a score per sub-criterion, a justification per criterion, a comment),
and every total is stored by the UPDATE the service runs at submission
(``evaluation_total_subquery``). Some dossiers have a consensus score, the DDETS's
opinions, and the committee's decisions (the best selected within the lot's budget, a
waiting list, some not selected). Rows go through bulk_create, scores through COPY.

``query_counts`` compares the queries of the ranking page and its CSV and XLSX exports
on both lots; ``endpoints`` gives the load generator those pages, as an instructeur.
``cleanup`` removes the call and everything made for it: the bench data set is left as
it was (its marker counts calls and dossiers).
"""

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, Criterion, Lot, OrganisationKind, Programme, SubCriterion
from aap.states import CallStatus
from bench import data, load
from candidatures.models import Candidature, Organisation
from candidatures.states import CandidatureStatus
from core.models import User
from core.roles import Role
from demo import seed
from demo.dates import CallDates
from evaluation.models import (
    Admissibility,
    AdmissibilityChange,
    Assignment,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeRecord,
    Consensus,
    Decision,
    Evaluation,
    EvaluationStatusChange,
    Interests,
    Justification,
    Opinion,
    Score,
    ScoringGrid,
    Seat,
    SubCriterionFactor,
)
from evaluation.queries import evaluation_total_subquery
from evaluation.services import lock_grid
from evaluation.states import (
    AdmissibilityOutcome,
    ConflictStatus,
    DecisionOutcome,
    EvaluationAction,
    EvaluationStatus,
    OpinionKind,
)

REFERENCE = "AAP-BENCH-RANKING"
SLUG = "aap-bench-ranking-classement-d-un-lot"
DOSSIERS = 1000
SMALL_DOSSIERS = 3
EVALUATORS = 3
READERS = 2
# (title, weight, sub-criteria): 7 sub-criteria in all.
CRITERIA = [
    ("Qualité et pertinence du projet", Decimal("40"), 2),
    ("Ancrage territorial et partenariats", Decimal("35"), 2),
    ("Moyens humains et budget", Decimal("25"), 3),
]
SCALE_MAX = 4
STAFF_DOMAIN = "classement.bench.example"
SIRET_PREFIX = 6  # data uses 9 for its organisations, the rush 8
# The exports measured with the page; the PDF (WeasyPrint, 1,000 rows) is left out.
EXPORTS = ("csv", "xlsx")
PAGES = ("ranking", *(f"ranking_{fmt}" for fmt in EXPORTS))


@dataclass
class Setup:
    call_id: int
    large_lot_id: int
    small_lot_id: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def url(self, page: str, lot_id: int) -> str:
        if page == "ranking":
            return reverse("evaluation:ranking", args=[self.call_id, lot_id])
        fmt = page.removeprefix("ranking_")
        return reverse("evaluation:ranking_export", args=[self.call_id, lot_id, fmt])


# --- Set-up and clean-up ------------------------------------------------------------------


def _staff_accounts():
    return User.objects.filter(email__endswith=f"@{STAFF_DOMAIN}")


def cleanup() -> None:
    """Remove the call, its dossiers and organisations, the evaluators and readers.

    The order follows the PROTECT foreign keys: records, decisions, opinions and
    assignments (with their evaluations and scores) before dossiers and accounts,
    factors and scores before sub-criteria."""
    calls = list(Call.objects.filter(reference=REFERENCE).values_list("pk", flat=True))
    with transaction.atomic():
        dossiers = Candidature.objects.filter(call__in=calls)
        organisations = list(dossiers.values_list("organisation_id", flat=True))
        CommitteeRecord.objects.filter(call__in=calls).delete()
        Decision.objects.filter(candidature__in=dossiers).delete()
        Opinion.objects.filter(candidature__in=dossiers).delete()
        Consensus.objects.filter(candidature__in=dossiers).delete()
        Score.objects.filter(evaluation__assignment__candidature__in=dossiers).delete()
        Justification.objects.filter(evaluation__assignment__candidature__in=dossiers).delete()
        Assignment.objects.filter(candidature__in=dossiers).delete()
        Admissibility.objects.filter(candidature__in=dossiers).delete()
        AdmissibilityChange.objects.filter(candidature__in=dossiers).delete()
        dossiers.delete()
        Organisation.objects.filter(pk__in=organisations).delete()
        SubCriterionFactor.objects.filter(grid__call__in=calls).delete()
        Call.objects.filter(pk__in=calls).delete()
        accounts = _staff_accounts()
        User.groups.through.objects.filter(user__in=accounts).delete()
        accounts.delete()


def _call(now: dt.datetime) -> Call:
    programme, _ = Programme.objects.get_or_create(
        short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
    )
    deadline = (now - dt.timedelta(days=30)).replace(hour=17, minute=0, second=0, microsecond=0)
    return Call.objects.create(
        programme=programme,
        **{
            key: value
            for key, value in seed.call_fields(CallDates(deadline)).items()
            if key != "title"
        },
        title=f"{seed.CALL['title']} (bench : classement de {DOSSIERS} dossiers)",
        reference=REFERENCE,
        slug=SLUG,
        opens_at=deadline - dt.timedelta(days=60),
        deadline=deadline,
        status=CallStatus.UNDER_REVIEW,
        published_at=deadline - dt.timedelta(days=67),
    )


def _accounts(role: Role, stem: str, count: int) -> list[User]:
    users = User.objects.bulk_create(
        User(
            email=f"{stem}-{index + 1}@{STAFF_DOMAIN}",
            password=data.UNUSABLE_PASSWORD,
            first_name=data.FIRST_NAMES[index % len(data.FIRST_NAMES)],
            last_name=data.LAST_NAMES[index % len(data.LAST_NAMES)],
        )
        for index in range(count)
    )
    group = Group.objects.get(name=role)
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=group.pk) for user in users
    )
    return users


def _score(quality: float, harshness: float, rng: random.Random) -> int:
    """A score on the 0–4 scale around the dossier's quality, each evaluator its bias."""
    return max(0, min(SCALE_MAX, round(quality * SCALE_MAX + harshness + rng.gauss(0, 0.7))))


def prepare(*, dossiers: int = DOSSIERS, small: int = SMALL_DOSSIERS, seed_value=2024) -> Setup:
    """A fresh call under review, its two lots and their evaluated dossiers."""
    began = time.perf_counter()
    cleanup()
    rng = random.Random(seed_value)
    now = timezone.now().replace(microsecond=0)
    staff = data.instructeur()
    with transaction.atomic():
        call = _call(now)
        large, small_lot = Lot.objects.bulk_create(
            [
                Lot(
                    call=call,
                    position=1,
                    name="Nord Isère",
                    territory="Territoire Nord Isère",
                    fte=Decimal("0.5"),
                    budget=Decimal("4000000"),
                ),
                Lot(
                    call=call,
                    position=2,
                    name="Sud Isère",
                    territory="Territoire Sud Isère",
                    fte=Decimal("0.5"),
                    budget=Decimal("150000"),
                ),
            ]
        )
        criteria = Criterion.objects.bulk_create(
            Criterion(call=call, position=position, title=title, weight=weight)
            for position, (title, weight, _subs) in enumerate(CRITERIA, start=1)
        )
        subcriteria = SubCriterion.objects.bulk_create(
            SubCriterion(criterion=criterion, position=position, title=f"Sous-critère {position}")
            for criterion, (_title, _weight, count) in zip(criteria, CRITERIA, strict=True)
            for position in range(1, count + 1)
        )
        ScoringGrid.objects.create(
            call=call,
            scale_max=SCALE_MAX,
            due_at=now - dt.timedelta(days=7),
            evaluators_per_dossier=EVALUATORS,
        )
        # The service's own freeze: scoring_locked_at and one factor per sub-criterion.
        lock_grid(call)

        total = dossiers + small
        kinds = list(OrganisationKind.values)
        organisations = Organisation.objects.bulk_create(
            (
                Organisation(
                    name=f"{data.ORGANISATION_NAMES[kind]} {rng.choice(data.TERRITORIES)} "
                    f"n° {index + 1}",
                    kind=kind,
                    siret=data.siret(SIRET_PREFIX, index),
                    address=f"{rng.randint(1, 120)} avenue de la République",
                    postal_code=f"38{rng.randint(0, 999):03d}",
                    city=rng.choice(data.TERRITORIES),
                    legal_representative_name=f"{rng.choice(data.FIRST_NAMES)} "
                    f"{rng.choice(data.LAST_NAMES)}",
                    legal_representative_role="Président",
                    legal_representative_email=f"direction-{index + 1}@{STAFF_DOMAIN}",
                )
                for index in range(total)
                for kind in [kinds[index % len(kinds)]]
            ),
            batch_size=data.BATCH,
        )
        candidatures = Candidature.objects.bulk_create(
            (
                Candidature(
                    call=call,
                    organisation=organisation,
                    status=CandidatureStatus.SUBMITTED,
                    submitted_at=call.deadline - dt.timedelta(minutes=rng.randint(5, 20_000)),
                    requested_amount=Decimal(rng.randint(10, 90) * 1000),
                )
                for organisation in organisations
            ),
            batch_size=data.BATCH,
        )
        lot_of = [large if index < dossiers else small_lot for index in range(total)]
        DossierLot = Candidature.lots.through
        DossierLot.objects.bulk_create(
            (
                DossierLot(candidature_id=dossier.pk, lot_id=lot.pk)
                for dossier, lot in zip(candidatures, lot_of, strict=True)
            ),
            batch_size=data.BATCH,
        )
        decided_at = call.deadline + dt.timedelta(days=3)
        Admissibility.objects.bulk_create(
            (
                Admissibility(
                    candidature=dossier,
                    outcome=AdmissibilityOutcome.ADMISSIBLE,
                    checks=[{"code": "pieces", "ok": True}, {"code": "on_time", "ok": True}],
                    decided_by=staff,
                    decided_at=decided_at,
                )
                for dossier in candidatures
            ),
            batch_size=data.BATCH,
        )
        AdmissibilityChange.objects.bulk_create(
            (
                AdmissibilityChange(
                    candidature=dossier,
                    outcome=AdmissibilityOutcome.ADMISSIBLE,
                    by=staff,
                    at=decided_at,
                )
                for dossier in candidatures
            ),
            batch_size=data.BATCH,
        )

        evaluators = _accounts(Role.EVALUATEUR, "evaluateur", EVALUATORS)
        readers = _accounts(Role.LECTEUR_DDETS, "lecteur-ddets", READERS)
        assignments = Assignment.objects.bulk_create(
            (
                Assignment(
                    candidature=dossier,
                    evaluator=evaluator,
                    assigned_by=staff,
                    assigned_at=decided_at,
                    conflict=ConflictStatus.NONE,
                    declared_at=decided_at + dt.timedelta(days=1),
                )
                for dossier in candidatures
                for evaluator in evaluators
            ),
            batch_size=data.BATCH,
        )
        submitted_at = decided_at + dt.timedelta(days=10)
        evaluations = Evaluation.objects.bulk_create(
            (
                Evaluation(
                    assignment=assignment,
                    status=EvaluationStatus.SUBMITTED,
                    overall_comment=" ".join(rng.choices(data.SENTENCES, k=3)),
                    submitted_at=submitted_at,
                )
                for assignment in assignments
            ),
            batch_size=data.BATCH,
        )
        EvaluationStatusChange.objects.bulk_create(
            (
                EvaluationStatusChange(
                    evaluation=evaluation,
                    action=EvaluationAction.SUBMIT,
                    from_status=EvaluationStatus.DRAFT,
                    to_status=EvaluationStatus.SUBMITTED,
                    by_id=evaluator.pk,
                    at=submitted_at,
                )
                for evaluation, evaluator in zip(evaluations, evaluators * total, strict=True)
            ),
            batch_size=data.BATCH,
        )
        quality = [rng.betavariate(3, 2) for _ in range(total)]
        harshness = [rng.uniform(-0.6, 0.6) for _ in range(EVALUATORS)]

        def score_rows():
            for index, evaluation in enumerate(evaluations):
                dossier, rank = divmod(index, EVALUATORS)
                for sub in subcriteria:
                    yield evaluation.pk, sub.pk, _score(quality[dossier], harshness[rank], rng)

        scores = data._copy(Score, ["evaluation", "subcriterion", "value"], score_rows())
        justifications = data._copy(
            Justification,
            ["evaluation", "criterion", "text"],
            (
                (evaluation.pk, criterion.pk, rng.choice(data.SENTENCES))
                for evaluation in evaluations
                for criterion in criteria
            ),
        )
        # What submit_evaluation stores: Sum(score × factor), computed by the database.
        Evaluation.objects.filter(assignment__candidature__call=call).update(
            total=evaluation_total_subquery()
        )

        consensus = [dossier for dossier in candidatures if rng.random() < 0.05]
        Consensus.objects.bulk_create(
            Consensus(
                candidature=dossier,
                total=Decimal(rng.randint(4000, 8500)) / 100,
                reason="Harmonisation en réunion : écart entre évaluateurs.",
                set_by=staff,
                set_at=submitted_at + dt.timedelta(days=5),
            )
            for dossier in consensus
        )
        opinions = Opinion.objects.bulk_create(
            (
                Opinion(
                    candidature=dossier,
                    author=reader,
                    kind=rng.choice(OpinionKind.values),
                    comment=rng.choice(data.SENTENCES),
                    updated_at=submitted_at + dt.timedelta(days=6),
                )
                for dossier in candidatures
                for reader in readers
                if rng.random() < 0.6
            ),
            batch_size=data.BATCH,
        )
        decisions = _decisions(call, [large, small_lot], staff, submitted_at)
        # The committee met a week after the submissions; a record needs its quorum.
        meeting = CommitteeMeeting.objects.create(
            call=call,
            starts_at=submitted_at + dt.timedelta(days=7),
            place="Salle du comité (banc d'essai)",
            created_by=staff,
        )
        CommitteeMember.objects.bulk_create(
            CommitteeMember(
                meeting=meeting,
                name=f"Membre {n}",
                organisation="DDETS" if seat == Seat.MEMBER else "Département",
                role="Membre du comité",
                seat=seat,
                is_ddets=seat == Seat.MEMBER,
                interests=Interests.NONE,
            )
            for n, seat in enumerate(Seat.values)
        )
        for lot in (large, small_lot):
            CommitteeRecord.objects.create(
                call=call,
                lot=lot,
                meeting=meeting,
                snapshot={"bench": True},
                pdf="comites/bench-classement.pdf",
                sha256="0" * 64,  # the bench's file is a name only
                created_by=staff,
                created_at=submitted_at + dt.timedelta(days=7),
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Setup(
        call_id=call.pk,
        large_lot_id=large.pk,
        small_lot_id=small_lot.pk,
        counts={
            "lots": 2,
            "dossiers_large_lot": dossiers,
            "dossiers_small_lot": small,
            "criteria": len(criteria),
            "subcriteria": len(subcriteria),
            "evaluators": EVALUATORS,
            "evaluations": len(evaluations),
            "scores": scores,
            "justifications": justifications,
            "consensus": len(consensus),
            "opinions": len(opinions),
            "decisions": decisions,
        },
        seconds=round(time.perf_counter() - began, 2),
    )


def _decisions(call: Call, lots: list[Lot], staff: User, at: dt.datetime) -> int:
    """The committee's decisions on each lot, in the order of the ranking: the best
    selected while the budget lasts, ten on the waiting list, ten not selected."""
    from evaluation import queries

    rows = []
    for lot in lots:
        budget, spent = lot.budget, Decimal(0)
        ranked = list(queries.ranking(lot).values_list("pk", "requested_amount"))
        for position, (pk, requested) in enumerate(ranked):
            if spent + requested <= budget and position < len(ranked) // 10 + 1:
                spent += requested
                outcome = DecisionOutcome.SELECTED
            elif position < len(ranked) // 10 + 11:
                outcome = DecisionOutcome.WAITING_LIST
            elif position >= len(ranked) - 10:
                outcome = DecisionOutcome.NOT_SELECTED
            else:
                continue
            selected = outcome == DecisionOutcome.SELECTED
            rows.append(
                Decision(
                    candidature_id=pk,
                    lot=lot,
                    outcome=outcome,
                    amount_granted=requested if selected else None,
                    fte_granted=Decimal("0.5") if selected else None,
                    reason="Note insuffisante." if outcome == DecisionOutcome.NOT_SELECTED else "",
                    decided_by=staff,
                    decided_at=at + dt.timedelta(days=8),
                )
            )
    return len(Decision.objects.bulk_create(rows, batch_size=data.BATCH))


# --- Measures ------------------------------------------------------------------------------------


def reader() -> User:
    return _staff_accounts().filter(groups__name=Role.LECTEUR_DDETS).order_by("pk").first()


def query_counts(setup: Setup) -> dict:
    """Queries of each page on the small and the large lot, as an instructeur (and the
    ranking as a DDETS reader); each page is requested once before it is measured."""
    clients = {}
    for persona, user in (("instructeur", data.instructeur()), ("ddets", reader())):
        # The session of the load (second factor passed): ``force_login`` would owe it.
        clients[persona] = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=data.session_cookie(user))
    measured = [(page, "instructeur") for page in PAGES] + [("ranking", "ddets")]
    results = {}
    for page, persona in measured:
        name = page if persona == "instructeur" else f"{page} (DDETS)"
        row = {}
        for size, lot_id in (("small", setup.small_lot_id), ("large", setup.large_lot_id)):
            client, url = clients[persona], setup.url(page, lot_id)
            client.get(url)
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as context:
                response = client.get(url)
            seconds = time.perf_counter() - began
            if response.status_code != 200:
                raise RuntimeError(f"{url} a répondu {response.status_code}")
            row[size] = len(context.captured_queries)
            row[f"{size}_ms"] = round(seconds * 1000, 1)
            row[f"{size}_kib"] = round(len(response.getvalue()) / 1024, 1)
        row["url"] = setup.url(page, setup.large_lot_id)
        results[name] = row
    return results


def endpoints(setup: Setup, cookie: str) -> dict[str, load.Endpoint]:
    headers = {"Cookie": cookie}
    result = {}
    for page in PAGES:
        url = setup.url(page, setup.large_lot_id)
        result[page] = load.Endpoint(page, url, lambda rng, url=url: url, headers)
    return result
