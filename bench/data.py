"""The bench data set: hundreds of calls shaped like the seed call, written with bulk_create.

``generate(shape)`` runs ``STEPS`` in order; each step creates one kind of rows for every
call at once and returns what it counted. A marker row in the bench database records
the shape of the data set, so a second run with the same shape reuses it.
"""

import datetime as dt
import json
import random
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from aap.demo import seed
from aap.models import (
    Call,
    CallQuestion,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    Programme,
    RequiredDocument,
    SubCriterion,
    User,
)
from aap.roles import Role
from aap.states import CallAction, CallStatus

# Bump when the generator changes: the marker then no longer matches and data is rebuilt.
GENERATOR_VERSION = 1
BATCH = 2000
MARKER_TABLE = "bench_dataset"
INSTRUCTEUR_EMAIL = "instructeur@bench.example"

# Most calls of a département are history; a few are open or announced at any time.
DEFAULT_MIX = {"open": 0.10, "upcoming": 0.05, "closed": 0.83, "draft": 0.02}

THEMES = [
    "Co-animation du réseau des facilitateurs clauses sociales",
    "Accompagnement socioprofessionnel des allocataires du RSA",
    "Mobilité vers l'emploi",
    "Levée des freins périphériques à l'emploi",
    "Insertion par l'activité économique",
    "Garde d'enfants pour le retour à l'emploi",
    "Médiation numérique et accès aux droits",
    "Parrainage vers l'emploi des jeunes",
    "Chantiers d'insertion en milieu rural",
    "Accompagnement des travailleurs indépendants",
]
TERRITORIES = [
    "Nord Isère",
    "Sud Isère",
    "Grésivaudan",
    "Voironnais-Chartreuse",
    "Vercors",
    "Oisans",
    "Trièves",
    "Matheysine",
    "Bièvre-Valloire",
    "Isère rhodanienne",
    "Porte des Alpes",
    "Haut-Rhône dauphinois",
    "Agglomération grenobloise",
]
WEIGHTS = [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
STATUS_PATHS = {
    # The moves that led to each status, for the history rows.
    CallStatus.PUBLISHED: [CallAction.PUBLISH],
    CallStatus.CLOSED: [CallAction.PUBLISH, CallAction.CLOSE],
    CallStatus.UNDER_REVIEW: [CallAction.PUBLISH, CallAction.CLOSE, CallAction.START_REVIEW],
    CallStatus.DECIDED: [
        CallAction.PUBLISH,
        CallAction.CLOSE,
        CallAction.START_REVIEW,
        CallAction.DECIDE,
    ],
    CallStatus.ARCHIVED: [
        CallAction.PUBLISH,
        CallAction.CLOSE,
        CallAction.START_REVIEW,
        CallAction.DECIDE,
        CallAction.ARCHIVE,
    ],
}
NEXT_STATUS = {
    CallAction.PUBLISH: (CallStatus.DRAFT, CallStatus.PUBLISHED),
    CallAction.CLOSE: (CallStatus.PUBLISHED, CallStatus.CLOSED),
    CallAction.START_REVIEW: (CallStatus.CLOSED, CallStatus.UNDER_REVIEW),
    CallAction.DECIDE: (CallStatus.UNDER_REVIEW, CallStatus.DECIDED),
    CallAction.ARCHIVE: (CallStatus.DECIDED, CallStatus.ARCHIVED),
}


@dataclass(frozen=True)
class Shape:
    """The size of a data set; the marker compares it to decide whether to rebuild."""

    calls: int = 500
    min_lots: int = 2
    max_lots: int = 5
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    seed: int = 2024
    version: int = GENERATOR_VERSION

    def phase_counts(self) -> dict[str, int]:
        counts = {phase: int(self.calls * share) for phase, share in self.mix.items()}
        # Rounding leftovers go to the largest share (history, in the default mix).
        largest = max(self.mix, key=self.mix.get)
        counts[largest] += self.calls - sum(counts.values())
        return counts


@dataclass
class Context:
    shape: Shape
    rng: random.Random
    now: dt.datetime
    programmes: list[Programme] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    phases: dict[int, str] = field(default_factory=dict)  # call pk -> phase


def _programmes(ctx: Context) -> dict[str, int]:
    specs = [
        seed.PROGRAMME,
        {**seed.PROGRAMME, "short_name": "PDI-E-BENCH-A", "start_year": 2018, "end_year": 2022},
        {**seed.PROGRAMME, "short_name": "PDI-E-BENCH-B", "start_year": 2028, "end_year": 2032},
    ]
    for spec in specs:
        programme, _ = Programme.objects.get_or_create(short_name=spec["short_name"], defaults=spec)
        ctx.programmes.append(programme)
    return {"programmes": len(ctx.programmes)}


def _dates(phase: str, rng: random.Random, now: dt.datetime):
    """Opening and deadline of a call in ``phase``. Open calls stay open for years, so a
    data set kept between runs keeps its mix."""
    day = dt.timedelta(days=1)
    now = now.replace(second=0, microsecond=0)
    if phase == "open":
        opens_at = now - rng.randint(1, 60) * day
        deadline = now + rng.randint(700, 1000) * day
    elif phase == "upcoming":
        opens_at = now + rng.randint(700, 900) * day
        deadline = opens_at + rng.randint(30, 90) * day
    else:  # closed, or a draft being prepared from an old call
        deadline = now - rng.randint(30, 8 * 365) * day
        opens_at = deadline - rng.randint(30, 90) * day
    return opens_at, deadline.replace(hour=17, minute=0)


def _calls(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    phases = [phase for phase, count in ctx.shape.phase_counts().items() for _ in range(count)]
    rng.shuffle(phases)
    closed_statuses = [
        CallStatus.CLOSED,
        CallStatus.UNDER_REVIEW,
        CallStatus.DECIDED,
        CallStatus.ARCHIVED,
        CallStatus.ARCHIVED,
        CallStatus.PUBLISHED,  # past its deadline, the sweep has not run yet
    ]
    # The seed call's own texts, so that pages weigh what a real call page weighs.
    text = {key: value for key, value in seed.CALL.items() if key not in ("title", "year")}
    calls = []
    for index, phase in enumerate(phases, start=1):
        opens_at, deadline = _dates(phase, rng, ctx.now)
        if phase == "draft":
            status = CallStatus.DRAFT
        elif phase == "closed":
            status = rng.choice(closed_statuses)
        else:
            status = CallStatus.PUBLISHED
        title = f"{rng.choice(THEMES)} – {rng.choice(TERRITORIES)}"
        reference = f"AAP-BENCH-{index:05d}"
        calls.append(
            Call(
                **text,
                programme=rng.choice(ctx.programmes),
                title=title,
                reference=reference,
                slug=f"{reference.lower()}-{slugify(title)}"[:80].rstrip("-"),
                year=opens_at.year,
                opens_at=opens_at,
                deadline=deadline,
                status=status,
                published_at=None if status == CallStatus.DRAFT else opens_at - 7 * dt.timedelta(1),
            )
        )
    ctx.calls = Call.objects.bulk_create(calls, batch_size=BATCH)
    ctx.phases = {call.pk: phase for call, phase in zip(ctx.calls, phases, strict=True)}
    return {"calls": len(ctx.calls), **ctx.shape.phase_counts()}


def _structure(ctx: Context) -> dict[str, int]:
    """Lots, criteria and sub-criteria, required documents, expected actions."""
    rng = ctx.rng
    lots, criteria, documents, actions = [], [], [], []
    subcriteria_per_criterion = []
    for call in ctx.calls:
        count = rng.randint(ctx.shape.min_lots, ctx.shape.max_lots)
        for position, territory in enumerate(rng.sample(TERRITORIES, count)):
            lots.append(
                Lot(
                    call=call,
                    position=position,
                    name=territory,
                    territory=f"Territoire {territory}",
                    fte=rng.choice([Decimal("0.25"), Decimal("0.5"), Decimal("1")]),
                    budget=rng.choice([None, Decimal(rng.randint(10, 90) * 1000)]),
                )
            )
        for position, (spec, weight) in enumerate(zip(seed.CRITERIA, WEIGHTS, strict=True)):
            criteria.append(
                Criterion(call=call, position=position, title=spec["title"], weight=weight)
            )
            subcriteria_per_criterion.append(rng.randint(2, 3))
        for position, spec in enumerate(seed.REQUIRED_DOCUMENTS[:4]):
            documents.append(
                RequiredDocument(
                    call=call,
                    position=position,
                    **{key: spec[key] for key in ("label", "description", "mandatory")},
                    **{key: spec[key] for key in ("multiple", "allowed_formats", "max_size_mb")},
                )
            )
        for position, label in enumerate(seed.EXPECTED_ACTIONS[:8]):
            actions.append(ExpectedAction(call=call, position=position, label=label))
    Lot.objects.bulk_create(lots, batch_size=BATCH)
    criteria = Criterion.objects.bulk_create(criteria, batch_size=BATCH)
    subcriteria = [
        SubCriterion(criterion=criterion, position=position, title=f"Sous-critère {position + 1}")
        for criterion, count in zip(criteria, subcriteria_per_criterion, strict=True)
        for position in range(count)
    ]
    SubCriterion.objects.bulk_create(subcriteria, batch_size=BATCH)
    RequiredDocument.objects.bulk_create(documents, batch_size=BATCH)
    ExpectedAction.objects.bulk_create(actions, batch_size=BATCH)
    return {
        "lots": len(lots),
        "criteria": len(criteria),
        "subcriteria": len(subcriteria),
        "required_documents": len(documents),
        "expected_actions": len(actions),
    }


def _questions(ctx: Context) -> dict[str, int]:
    """Published answers on calls that took questions; a pending one on some open calls."""
    rng = ctx.rng
    questions = []
    for call in ctx.calls:
        phase = ctx.phases[call.pk]
        if phase in ("upcoming", "draft"):
            continue
        for number in range(rng.randint(1, 4)):
            asked_at = call.opens_at + dt.timedelta(days=number + 1)
            questions.append(
                CallQuestion(
                    call=call,
                    question=f"Question n° {number + 1} d'un candidat sur le lot et les pièces.",
                    asked_at=asked_at,
                    public_question=f"Peut-on candidater sur plusieurs lots ? ({number + 1})",
                    answer="Oui : un dossier par lot, chacun avec ses pièces.\n\n- Budget par lot",
                    published_at=asked_at + dt.timedelta(days=2),
                )
            )
        if phase == "open" and rng.random() < 0.5:
            questions.append(CallQuestion(call=call, question="Une question en attente."))
    CallQuestion.objects.bulk_create(questions, batch_size=BATCH)
    return {"questions": len(questions)}


def _history(ctx: Context) -> dict[str, int]:
    changes = []
    for call in ctx.calls:
        at = call.published_at
        for action in STATUS_PATHS.get(call.status, []):
            before, after = NEXT_STATUS[action]
            changes.append(
                CallStatusChange(
                    call=call, action=action, from_status=before, to_status=after, at=at
                )
            )
            at = max(at, call.deadline) + dt.timedelta(days=7)
    CallStatusChange.objects.bulk_create(changes, batch_size=BATCH)
    return {"status_changes": len(changes)}


# Dossiers: when ``candidatures`` has its models, add a step here that creates tens of
# thousands of them for the open and closed calls' lots (organisations first, then
# dossiers, then their uploaded documents' rows, never files), each kind in one
# bulk_create with ``batch_size=BATCH``, and add a ``dossiers`` size to ``Shape`` so the
# marker tells a data set with dossiers from one without. Evaluations, scores and
# agreements follow the same way, downstream of dossiers.
STEPS = [_programmes, _calls, _structure, _questions, _history]


def generate(shape: Shape, *, now: dt.datetime | None = None) -> dict[str, int]:
    ctx = Context(shape=shape, rng=random.Random(shape.seed), now=now or timezone.now())
    counts = {}
    for step in STEPS:
        counts.update(step(ctx))
    return counts


def truncate() -> None:
    """Empty every table of calls (and, by CASCADE, everything that refers to them)."""
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Programme, Call)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")


def _read_marker() -> dict | None:
    """The shape and counts of the data set in the database (the table is made if missing;
    ``json``, not ``jsonb``, keeps the keys in the order the steps counted them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(id int PRIMARY KEY CHECK (id = 1), shape json NOT NULL, counts json NOT NULL, "
            "generated_at timestamptz NOT NULL)"
        )
        cursor.execute(f"SELECT shape, counts FROM {MARKER_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    shape, counts = (json.loads(value) if isinstance(value, str) else value for value in row)
    return {"shape": shape, "counts": counts}


def _write_marker(shape: Shape, counts: dict[str, int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (id, shape, counts, generated_at) VALUES (1, %s, %s, now())",
            [json.dumps(asdict(shape)), json.dumps(counts)],
        )


def _still_matches(marker: dict | None, shape: Shape) -> bool:
    """The marker's shape is ours and the rows are still there, in the same phases."""
    if marker is None or marker["shape"] != json.loads(json.dumps(asdict(shape))):
        return False
    counts = marker["counts"]
    return (
        Call.objects.count() == counts["calls"]
        and Lot.objects.count() == counts["lots"]
        and Call.objects.open_at().count() == counts["open"]
        and Call.objects.upcoming_at().count() == counts["upcoming"]
    )


def ensure(shape: Shape, *, regenerate: bool = False) -> dict:
    """The data set of ``shape``, generated unless the bench database already holds it."""
    started = time.perf_counter()
    if not regenerate and _still_matches(marker := _read_marker(), shape):
        return {"generated": False, "seconds": 0.0, "counts": marker["counts"]}
    with transaction.atomic():
        _read_marker()  # creates the marker table on a fresh database
        truncate()
        counts = generate(shape)
        _write_marker(shape, counts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as an aged production database has
    return {
        "generated": True,
        "seconds": round(time.perf_counter() - started, 2),
        "counts": counts,
    }


def instructeur() -> User:
    user, created = User.objects.get_or_create(
        email=INSTRUCTEUR_EMAIL, defaults={"first_name": "Inès", "last_name": "Bench"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.set([Group.objects.get(name=Role.INSTRUCTEUR)])
    return user
