"""The data set of the reminder sweep: dossiers and agreements whose dates hit milestones.

Everything is placed around ``NOW``, a fixed instant the sweep is run at, so that a data
set kept between runs gives the same reminders. The calls are the same whatever the
size (the sweep runs a few queries per call in a window); the dossiers, the accounts and
the agreements grow with it:

- 9 published calls closing in 6 days, tomorrow and tonight (milestones J-7, J-2, J-0
  of the drafts), 30 % of the dossiers, 60 % of them drafts; 6 more open calls, closing in
  20 days (in the sweep's window, no milestone yet) or in 200 days;
- 4 closed calls asking for a paper copy, closed 6 days ago (J+5), 15 % of the submitted
  dossiers without one, and a few requests for pieces due in 1 to 3 days;
- 4 calls under review whose scoring is due tomorrow (J-2), two evaluators per dossier,
  30 % of the evaluations not submitted;
- 30 decided calls holding the rest, and the agreements, each on a dossier and a lot:
  unsigned ones prepared 1 to 400 days ago, signed and in progress ones with two
  instalments, an intermediate and a final report and two progress reviews, spread over
  two years around ``NOW``, settled ones.

The largest tables go through COPY with explicit ids (the database is the scenario's own,
emptied first); the sequences are moved past them afterwards.
"""

import datetime as dt
import json
import random
import time
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction

from aap.models import Call, Lot, OrganisationKind, Programme, ReminderSetting, RequiredDocument
from aap.states import CallStatus
from bench import data
from bench.sweep import NOW
from candidatures.models import (
    Candidature,
    Membership,
    Organisation,
    PaperCopy,
    PaperMethod,
    PieceRequest,
)
from candidatures.states import CandidatureStatus
from conventions.models import Convention, Payment, ProgressReview, Report
from conventions.states import ConventionStatus, PaymentStatus, ReportKind, ReportStatus
from core.models import OutgoingEmail, Reminder, User
from core.roles import Role
from demo import seed
from evaluation.models import Assignment, Evaluation, ScoringGrid
from evaluation.states import ConflictStatus, EvaluationStatus

PARIS = NOW.tzinfo
GENERATOR_VERSION = 1
MARKER_TABLE = "bench_sweep_dataset"
DOMAIN = "sweep.bench.example"

# (group, calls, share of the dossiers)
CALL_GROUPS = [
    ("draft_j7", 3, 0.06),
    ("draft_j2", 3, 0.06),
    ("draft_j0", 3, 0.06),
    ("open_later", 3, 0.06),
    ("open_far", 3, 0.06),
    ("paper", 4, 0.10),
    ("review", 4, 0.05),
    ("decided", 30, 0.55),
]
OPEN_GROUPS = {"draft_j7", "draft_j2", "draft_j0", "open_later", "open_far"}
DRAFT_SHARE = 0.5  # of the dossiers of open calls
PAPER_MISSING = 0.15
PIECE_REQUESTS = 0.02  # of the submitted dossiers of the paper and review calls
EVALUATORS = 20
PENDING_EVALUATIONS = 0.3
INSTRUCTEURS = 3
READERS = 2


@dataclass(frozen=True)
class Shape:
    dossiers: int
    agreements: int
    seed: int = 2031
    version: int = GENERATOR_VERSION


def _deadline(group: str, rng: random.Random) -> tuple[dt.datetime, dt.datetime, str]:
    """Opening, deadline (17:00 in Paris) and status of a call of ``group``."""
    today = NOW.date()
    offsets = {
        "draft_j7": 6,
        "draft_j2": 1,
        "draft_j0": 0,
        "open_later": 20,
        "open_far": 200,
        "paper": -6,
        "review": -40,
    }
    days = offsets.get(group, -rng.randint(120, 1000))
    deadline = dt.datetime.combine(today + dt.timedelta(days=days), dt.time(17, 0), PARIS)
    status = {
        "paper": CallStatus.CLOSED,
        "review": CallStatus.UNDER_REVIEW,
        "decided": rng.choice([CallStatus.DECIDED, CallStatus.ARCHIVED]),
    }.get(group, CallStatus.PUBLISHED)
    return deadline - dt.timedelta(days=rng.randint(45, 90)), deadline, status


# --- COPY with explicit ids --------------------------------------------------------------------


class Ids:
    """The next id of each table: the database is emptied with RESTART IDENTITY first."""

    def __init__(self):
        self.next: dict[type, int] = {}

    def take(self, model) -> int:
        value = self.next.get(model, 1)
        self.next[model] = value + 1
        return value


def _copy(objects, model) -> int:
    """COPY unsaved ``objects`` of ``model`` (their pk set) with every concrete column,
    as ``save()`` would write them (``auto_now`` fields get the current time)."""
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row(
                [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
            )
            count += 1
    return count


def _reset_sequences(models) -> None:
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0) + 1, false)",
                [table],
            )


# --- The data set ---------------------------------------------------------------------------------


def truncate() -> None:
    """Empty the scenario's database, keeping the roles (groups) the migrations made."""
    models = [Programme, Call, Organisation, User, OutgoingEmail, Reminder]
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")


def _users(ids: Ids, role: Role, stem: str, count: int, **extra) -> list[User]:
    users = [
        User(
            pk=ids.take(User),
            email=f"{stem}-{index + 1:06d}@{DOMAIN}",
            password=data.UNUSABLE_PASSWORD,
            first_name=data.FIRST_NAMES[index % len(data.FIRST_NAMES)],
            last_name=data.LAST_NAMES[index % len(data.LAST_NAMES)],
            email_verified_at=NOW - dt.timedelta(days=400),
            date_joined=NOW - dt.timedelta(days=400),
            **extra,
        )
        for index in range(count)
    ]
    _copy(users, User)
    group = Group.objects.get(name=role)
    through = User.groups.through
    _copy(
        (through(pk=ids.take(through), user_id=user.pk, group_id=group.pk) for user in users),
        through,
    )
    return users


def generate(shape: Shape) -> dict[str, int]:
    rng = random.Random(shape.seed)
    ids = Ids()
    counts: dict[str, int] = {}
    truncate()

    instructeurs = _users(ids, Role.INSTRUCTEUR, "instructeur", INSTRUCTEURS)
    # One instructeur switched the daily digest off.
    User.objects.filter(pk=instructeurs[-1].pk).update(wants_daily_digest=False)
    _users(ids, Role.LECTEUR_DDETS, "ddets", READERS)
    evaluators = _users(ids, Role.EVALUATEUR, "evaluateur", EVALUATORS)
    staff = instructeurs[0]

    # Calls, lots, a required document, a few calls with their own reminder settings.
    programme = Programme.objects.create(**seed.PROGRAMME)
    text = {
        key: value
        for key, value in seed.call_fields().items()
        if key not in ("title", "year", "paper_copy_required")
    }
    calls, groups = [], []
    for group, number, _share in CALL_GROUPS:
        for index in range(number):
            opens_at, deadline, status = _deadline(group, rng)
            reference = f"AAP-SWEEP-{group.upper()}-{index + 1}"
            calls.append(
                Call(
                    **text,
                    programme=programme,
                    title=f"{rng.choice(data.THEMES)} ({group} {index + 1})",
                    reference=reference,
                    slug=reference.lower(),
                    year=deadline.year,
                    opens_at=opens_at,
                    deadline=deadline,
                    status=status,
                    published_at=opens_at - dt.timedelta(days=7),
                    paper_copy_required=group == "paper",
                )
            )
            groups.append(group)
    calls = Call.objects.bulk_create(calls)
    counts["calls"] = len(calls)
    lots = Lot.objects.bulk_create(
        Lot(
            call=call,
            position=position,
            name=name,
            territory=f"Territoire {name}",
            fte=Decimal("0.5"),
        )
        for call in calls
        for position, name in enumerate(["Nord Isère", "Sud Isère"])
    )
    first_lot = {lot.call_id: lot.pk for lot in lots if lot.position == 0}
    required = {
        document.call_id: document
        for document in RequiredDocument.objects.bulk_create(
            RequiredDocument(call=call, position=0, label="Budget prévisionnel") for call in calls
        )
    }
    ReminderSetting.objects.bulk_create(
        ReminderSetting(call=call, name=name, days=days)
        for call, group in zip(calls, groups, strict=True)
        if group in ("draft_j7", "decided") and rng.random() < 0.3
        for name, days in (("draft_days", "10, 7, 2, 0"), ("report_days", "20, 15, 3"))
    )
    ScoringGrid.objects.bulk_create(
        ScoringGrid(
            call=call,
            due_at=dt.datetime.combine(NOW.date() + dt.timedelta(days=1), dt.time(18), PARIS),
        )
        for call, group in zip(calls, groups, strict=True)
        if group == "review"
    )

    # Dossiers per call: each group's share, split evenly between its calls.
    per_call = {}
    for group, number, share in CALL_GROUPS:
        members = [call for call, g in zip(calls, groups, strict=True) if g == group]
        total = round(shape.dossiers * share)
        for index, call in enumerate(members):
            per_call[call.pk] = total // number + (index < total % number)
    group_of = {call.pk: group for call, group in zip(calls, groups, strict=True)}

    # Organisations (about four dossiers each, enough for the biggest call) and members.
    organisation_count = max(max(per_call.values()), shape.dossiers // 4, 1)
    kinds = list(OrganisationKind.values)
    organisations = [
        Organisation(
            pk=ids.take(Organisation),
            name=f"{data.ORGANISATION_NAMES[kind]} {rng.choice(data.TERRITORIES)} n° {index + 1}",
            kind=kind,
            siret=data.siret(5, index),
            address="12 avenue de la République",
            postal_code="38000",
            city="Grenoble",
            legal_representative_name="Camille Martin",
            legal_representative_role="Présidente",
            legal_representative_email=f"direction-{index + 1}@{DOMAIN}",
        )
        for index in range(organisation_count)
        for kind in [kinds[index % len(kinds)]]
    ]
    counts["organisations"] = _copy(organisations, Organisation)
    member_counts = [1 if rng.random() < 0.7 else 2 for _ in organisations]
    candidates = _users(ids, Role.CANDIDAT, "candidat", sum(member_counts))
    members: dict[int, list[int]] = {}
    iterator = iter(candidates)
    for organisation, count in zip(organisations, member_counts, strict=True):
        members[organisation.pk] = [next(iterator).pk for _ in range(count)]
    counts["candidates"] = len(candidates)
    counts["memberships"] = _copy(
        (
            Membership(
                pk=ids.take(Membership),
                organisation_id=organisation_id,
                user_id=user_id,
                joined_at=NOW - dt.timedelta(days=400),
            )
            for organisation_id, users in members.items()
            for user_id in users
        ),
        Membership,
    )

    # Dossiers.
    dossiers = []  # (pk, call, organisation pk, submitted)
    rows = []
    for call in calls:
        group = group_of[call.pk]
        for organisation_pk in rng.sample(range(1, organisation_count + 1), per_call[call.pk]):
            submitted = group not in OPEN_GROUPS or rng.random() > DRAFT_SHARE
            end = min(call.deadline, NOW)
            submitted_at = end - dt.timedelta(minutes=rng.randint(10, 40_000))
            pk = ids.take(Candidature)
            dossiers.append((pk, call, organisation_pk, submitted))
            rows.append(
                Candidature(
                    pk=pk,
                    call_id=call.pk,
                    organisation_id=organisation_pk,
                    status=CandidatureStatus.SUBMITTED if submitted else CandidatureStatus.DRAFT,
                    submitted_at=submitted_at if submitted else None,
                    requested_amount=Decimal(rng.randint(10, 90) * 1000),
                    created_by_id=members[organisation_pk][0],
                )
            )
    counts["dossiers"] = _copy(rows, Candidature)
    counts["drafts"] = sum(not submitted for *_, submitted in dossiers)

    # Paper copies on the paper calls (some missing), requests for pieces.
    paper_rows, requests, requested_calls = [], [], []
    for pk, call, _organisation, submitted in dossiers:
        group = group_of[call.pk]
        if submitted and group == "paper" and rng.random() > PAPER_MISSING:
            day = call.deadline.astimezone(PARIS).date()
            paper_rows.append(
                PaperCopy(
                    pk=ids.take(PaperCopy),
                    candidature_id=pk,
                    method=PaperMethod.MAIL,
                    postmarked_on=day,
                    received_on=day + dt.timedelta(days=2),
                    recorded_by_id=staff.pk,
                    recorded_at=NOW - dt.timedelta(days=3),
                )
            )
        if submitted and group in ("paper", "review") and rng.random() < PIECE_REQUESTS:
            requests.append(
                PieceRequest(
                    pk=ids.take(PieceRequest),
                    candidature_id=pk,
                    message="Le budget de la structure manque : merci de le joindre.",
                    due_at=NOW + dt.timedelta(days=rng.randint(1, 3), hours=8),
                    created_by_id=staff.pk,
                    created_at=NOW - dt.timedelta(days=4),
                )
            )
            requested_calls.append(call.pk)
    counts["paper_copies"] = _copy(paper_rows, PaperCopy)
    counts["piece_requests"] = _copy(requests, PieceRequest)
    Requested = PieceRequest.required_documents.through
    _copy(
        (
            Requested(
                pk=ids.take(Requested),
                piecerequest_id=request.pk,
                requireddocument_id=required[call_id].pk,
            )
            for request, call_id in zip(requests, requested_calls, strict=True)
        ),
        Requested,
    )

    # Evaluations on the review calls: two evaluators per dossier, some still to do.
    assignments, evaluations = [], []
    for pk, call, _organisation, _submitted in dossiers:
        if group_of[call.pk] != "review":
            continue
        for evaluator in rng.sample(evaluators, 2):
            assignment = Assignment(
                pk=ids.take(Assignment),
                candidature_id=pk,
                evaluator_id=evaluator.pk,
                assigned_by_id=staff.pk,
                assigned_at=NOW - dt.timedelta(days=30),
                conflict=ConflictStatus.NONE,
                declared_at=NOW - dt.timedelta(days=29),
            )
            assignments.append(assignment)
            pending = rng.random() < PENDING_EVALUATIONS
            if pending and rng.random() < 0.5:
                continue  # not started
            evaluations.append(
                Evaluation(
                    pk=ids.take(Evaluation),
                    assignment_id=assignment.pk,
                    status=EvaluationStatus.DRAFT if pending else EvaluationStatus.SUBMITTED,
                    submitted_at=None if pending else NOW - dt.timedelta(days=2),
                )
            )
    counts["assignments"] = _copy(assignments, Assignment)
    counts["evaluations"] = _copy(evaluations, Evaluation)

    counts.update(_agreements(shape, rng, ids, dossiers, group_of, first_lot, staff))
    _reset_sequences(list(ids.next))
    return counts


def _agreements(shape, rng, ids, dossiers, group_of, first_lot, staff) -> dict[str, int]:
    """Agreements on submitted dossiers of the decided calls, with their schedules."""
    eligible = [
        (pk, call, organisation)
        for pk, call, organisation, submitted in dossiers
        if submitted and group_of[call.pk] == "decided"
    ]
    chosen = rng.sample(eligible, min(shape.agreements, len(eligible)))
    statuses = (
        [ConventionStatus.DRAFT] * 8
        + [ConventionStatus.SENT] * 7
        + [ConventionStatus.SIGNED] * 35
        + [ConventionStatus.IN_PROGRESS] * 35
        + [ConventionStatus.SETTLED] * 15
    )
    today = NOW.date()
    conventions, payments, reports, reviews = [], [], [], []
    for number, (pk, call, organisation) in enumerate(chosen, start=1):
        status = rng.choice(statuses)
        unsigned = status in (ConventionStatus.DRAFT, ConventionStatus.SENT)
        start = today - dt.timedelta(days=rng.randint(-60, 660))
        end = start + dt.timedelta(days=364)
        amount = Decimal(rng.randint(10, 90) * 1000)
        convention = Convention(
            pk=ids.take(Convention),
            candidature_id=pk,
            lot_id=first_lot[call.pk],
            organisation_id=organisation,
            call_id=call.pk,
            number=f"CONV-{start.year}-{number:06d}",
            year=start.year,
            decision_date=start - dt.timedelta(days=45),
            period_start=start,
            period_end=end,
            object="Co-animation du réseau des facilitateurs clauses sociales.",
            amount=amount,
            fte=Decimal("0.5"),
            payment_terms="50 % à la signature, le solde après le bilan final.",
            obligations="Remettre les bilans, participer aux points d'étape.",
            beneficiary_name=f"Structure n° {organisation}",
            beneficiary_siret=data.siret(5, organisation - 1),
            representative_name="Camille Martin",
            representative_role="Présidente",
            status=status,
            signed_on=None if unsigned else start - dt.timedelta(days=10),
            created_by_id=staff.pk,
            created_at=NOW - dt.timedelta(days=rng.randint(1, 400))
            if unsigned
            else dt.datetime.combine(start - dt.timedelta(days=40), dt.time(10), PARIS),
        )
        conventions.append(convention)
        if unsigned:
            continue
        settled = status == ConventionStatus.SETTLED
        for position, (label, due_on) in enumerate(
            [("Avance", start + dt.timedelta(days=30)), ("Solde", end + dt.timedelta(days=60))],
            start=1,
        ):
            paid = settled or (position == 1 and due_on < today - dt.timedelta(days=5))
            payments.append(
                Payment(
                    pk=ids.take(Payment),
                    convention_id=convention.pk,
                    position=position,
                    label=label,
                    due_on=due_on,
                    amount=amount / 2,
                    status=PaymentStatus.PAID if paid else PaymentStatus.PLANNED,
                    paid_on=due_on if paid else None,
                )
            )
        for kind, due_on in (
            (ReportKind.INTERMEDIATE, start + dt.timedelta(days=182)),
            (ReportKind.FINAL, end + dt.timedelta(days=30)),
        ):
            submitted = settled or (due_on < today and rng.random() < 0.7)
            reports.append(
                Report(
                    pk=ids.take(Report),
                    convention_id=convention.pk,
                    kind=kind,
                    due_on=due_on,
                    status=ReportStatus.SUBMITTED if submitted else ReportStatus.DUE,
                    submitted_at=dt.datetime.combine(due_on, dt.time(11), PARIS)
                    if submitted
                    else None,
                )
            )
        for offset in (120, 270):
            scheduled = dt.datetime.combine(start + dt.timedelta(days=offset), dt.time(10), PARIS)
            reviews.append(
                ProgressReview(
                    pk=ids.take(ProgressReview),
                    convention_id=convention.pk,
                    scheduled_at=scheduled,
                    place="Visioconférence",
                    participants="Département, DDETS, structure.",
                    held=scheduled < NOW,
                    created_by_id=staff.pk,
                )
            )
    return {
        "agreements": _copy(conventions, Convention),
        "payments": _copy(payments, Payment),
        "reports": _copy(reports, Report),
        "reviews": _copy(reviews, ProgressReview),
    }


# --- Marker -------------------------------------------------------------------------------------


def _marker() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (id int PRIMARY KEY CHECK (id = 1), "
            "shape json NOT NULL, counts json NOT NULL, generated_at timestamptz NOT NULL)"
        )
        cursor.execute(f"SELECT shape, counts FROM {MARKER_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return None
    shape, counts = (json.loads(value) if isinstance(value, str) else value for value in row)
    return {"shape": shape, "counts": counts}


def ensure(shape: Shape, *, regenerate: bool = False) -> dict:
    """The data set of ``shape``, generated unless the database already holds it."""
    began = time.perf_counter()
    marker = _marker()
    if (
        not regenerate
        and marker is not None
        and marker["shape"] == asdict(shape)
        and Candidature.objects.count() == marker["counts"]["dossiers"]
        and Convention.objects.count() == marker["counts"]["agreements"]
    ):
        return {"generated": False, "seconds": 0.0, "counts": marker["counts"]}
    with transaction.atomic():
        counts = generate(shape)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {MARKER_TABLE}")
            cursor.execute(
                f"INSERT INTO {MARKER_TABLE} (id, shape, counts, generated_at) "
                "VALUES (1, %s, %s, now())",
                [json.dumps(asdict(shape)), json.dumps(counts)],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"generated": True, "seconds": round(time.perf_counter() - began, 2), "counts": counts}


def forget_reminders() -> None:
    """Empty the reminders and the outbox, as before the first sweep at ``NOW``."""
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Reminder, OutgoingEmail)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")
