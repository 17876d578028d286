"""The bench data set: hundreds of calls shaped like the seed call, and tens of thousands
of dossiers on the closed ones, written with bulk_create.

``generate(shape)`` runs ``STEPS`` in order; each step creates one kind of rows for every
call at once and returns what it counted. The largest kinds (answers, documents,
receipts) go through COPY as they are built, so memory stays flat. A marker row in
the bench database records the shape of the data set, so a second run with the same
shape reuses it.
"""

import base64
import datetime as dt
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from stdnum import luhn

from aap.models import (
    Call,
    CallQuestion,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    OrganisationKind,
    Programme,
    Question,
    QuestionKind,
    RequiredDocument,
    SubCriterion,
)
from aap.states import CallAction, CallStatus
from candidatures.models import (
    Answer,
    Candidature,
    CandidatureStatusChange,
    Document,
    Identical,
    Membership,
    Message,
    Organisation,
    PaperCopy,
    PaperMethod,
    PieceRequest,
    Receipt,
    Territory,
)
from candidatures.states import CandidatureAction, CandidatureStatus
from core.models import OutgoingEmail, User
from core.roles import Role
from demo import seed

# Bump when the generator changes: the marker then no longer matches and data is rebuilt.
GENERATOR_VERSION = 2
BATCH = 2000
MARKER_TABLE = "bench_dataset"
INSTRUCTEUR_EMAIL = "instructeur@bench.example"
# Every candidate account of the bench (generated or made for the rush) uses this domain:
# ``truncate`` removes them by it.
CANDIDATE_DOMAIN = "candidats.bench.example"
# Bench accounts never log in with a password, except the rush's (``bench.rush``).
UNUSABLE_PASSWORD = "!bench"

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
    # Dossiers go to the calls of these phases, a few calls getting many (1/sqrt(rank)).
    dossiers: int = 20_000
    dossier_phases: tuple[str, ...] = ("closed",)
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
    # call pk -> its rows, for the dossiers' steps
    lots: dict[int, list[Lot]] = field(default_factory=dict)
    required: dict[int, list[RequiredDocument]] = field(default_factory=dict)
    form: dict[int, list[Question]] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # organisation pk -> user pks
    organisations: list[Organisation] = field(default_factory=list)
    per_call: dict[int, int] = field(default_factory=dict)  # call pk -> dossiers
    dossiers: list = field(default_factory=list)  # of Plan


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
    text = {key: value for key, value in seed.call_fields().items() if key not in ("title", "year")}
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
    for lot in Lot.objects.bulk_create(lots, batch_size=BATCH):
        ctx.lots.setdefault(lot.call_id, []).append(lot)
    criteria = Criterion.objects.bulk_create(criteria, batch_size=BATCH)
    subcriteria = [
        SubCriterion(criterion=criterion, position=position, title=f"Sous-critère {position + 1}")
        for criterion, count in zip(criteria, subcriteria_per_criterion, strict=True)
        for position in range(count)
    ]
    SubCriterion.objects.bulk_create(subcriteria, batch_size=BATCH)
    for document in RequiredDocument.objects.bulk_create(documents, batch_size=BATCH):
        ctx.required.setdefault(document.call_id, []).append(document)
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


def _form(ctx: Context) -> dict[str, int]:
    """The seed call's funding-request form on every call: the dossiers answer it."""
    questions = [
        Question(call=call, position=position, **spec)
        for call in ctx.calls
        for position, spec in enumerate(seed.QUESTIONS, start=1)
    ]
    for question in Question.objects.bulk_create(questions, batch_size=BATCH):
        ctx.form.setdefault(question.call_id, []).append(question)
    return {"form_questions": len(questions)}


# --- Candidates and dossiers ---------------------------------------------------------------

SUBMITTED_SHARE = 0.88  # the rest are drafts nobody submitted before the deadline
FIRST_NAMES = ["Camille", "Dominique", "Claude", "Sacha", "Alix", "Lou", "Maxime", "Morgane"]
LAST_NAMES = ["Martin", "Bernard", "Faure", "Girard", "Blanc", "Guerin", "Rey", "Perrin"]
ORGANISATION_NAMES = {
    OrganisationKind.EPCI: "Communauté de communes",
    OrganisationKind.GIP: "GIP Insertion",
    OrganisationKind.ASSOCIATION: "Association Tremplin",
    OrganisationKind.COMMUNE: "Commune de",
    OrganisationKind.OTHER: "SCIC Emploi",
}
# The stem of the files candidates send for each of the four required documents.
DOCUMENT_STEMS = [
    "Dossier de demande de financement",
    "Budget prévisionnel",
    "Attestation d'engagement signée",
    "CV",
]
SENTENCES = [
    "Le réseau des facilitateurs se réunit chaque trimestre, en alternance au nord et au sud.",
    "Un espace numérique partagé recense les marchés à clauses et les structures d'insertion.",
    "Nous accompagnons les donneurs d'ordre dès la rédaction du cahier des charges.",
    "Les bailleurs sociaux du territoire sont associés à un temps fort annuel.",
    "Un partenariat avec Cap emploi et les ESAT élargit les clauses au secteur du handicap.",
    "Le bilan départemental est co-produit avec la DDETS à partir des données de suivi.",
    "La structure porte deux postes de facilitateur depuis 2019.",
    "L'équipe compte une coordinatrice à mi-temps et deux chargés de mission.",
    "Les heures d'insertion réalisées ont progressé de 18 % en deux ans.",
    "Une attention particulière est portée au Vercors, sans facilitateur à ce jour.",
    "Les actions sont évaluées chaque année avec les membres du réseau.",
    "Les priorités du réseau sont arrêtées en comité de pilotage au mois de janvier.",
]


@dataclass
class Plan:
    """One generated dossier and what the later steps need to know about it."""

    candidature: Candidature
    member_id: int
    submitted: bool
    # The first dossier of each call has every kind of row (lots, paper copy, messages,
    # a request for pieces): the query counts compare it with the small data set's.
    full: bool
    lot_ids: list[int] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)  # the receipt's manifest entries


def siret(prefix: int, index: int) -> str:
    """A valid SIRET, unique per (prefix, index): its SIREN and itself pass Luhn."""
    siren = f"{prefix}{index:07d}"
    siren += luhn.calc_check_digit(siren)
    body = f"{siren}0001"
    return body + luhn.calc_check_digit(body)


def _copy(model, fields: list[str], rows) -> int:
    """COPY ``rows`` (tuples in the order of ``fields``, JSON as text) into ``model``'s
    table: for the largest kinds, about four times faster than bulk_create."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _dossiers_per_call(ctx: Context) -> dict[int, int]:
    """The calls of ``dossier_phases`` in a random order, the n-th taking a share in
    1/sqrt(n): a few calls get hundreds of dossiers, most get a few dozen."""
    calls = [call for call in ctx.calls if ctx.phases[call.pk] in ctx.shape.dossier_phases]
    if not calls or ctx.shape.dossiers < 1:
        return {}
    ctx.rng.shuffle(calls)
    weights = [1 / math.sqrt(rank) for rank in range(1, len(calls) + 1)]
    shares = [ctx.shape.dossiers * weight / sum(weights) for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(calls)), key=lambda i: counts[i] - shares[i])
    for index in by_remainder[: ctx.shape.dossiers - sum(counts)]:
        counts[index] += 1
    return {call.pk: count for call, count in zip(calls, counts, strict=True) if count}


def _candidates(ctx: Context) -> dict[str, int]:
    """Organisations, with one or two member accounts each (role candidat)."""
    ctx.per_call = _dossiers_per_call(ctx)
    if not ctx.per_call:
        return {"organisations": 0, "candidates": 0}
    rng = ctx.rng
    # Each organisation applies to about four calls; the biggest call needs one per dossier.
    count = max(max(ctx.per_call.values()), ctx.shape.dossiers // 4)
    kinds = list(ORGANISATION_NAMES)
    organisations = []
    for index in range(count):
        kind = rng.choices(kinds, weights=[4, 2, 3, 2, 1])[0]
        territory = rng.choice(TERRITORIES)
        organisations.append(
            Organisation(
                name=f"{ORGANISATION_NAMES[kind]} {territory} n° {index + 1}",
                kind=kind,
                siret=siret(9, index),
                address=f"{rng.randint(1, 120)} avenue de la République",
                postal_code=f"38{rng.randint(0, 999):03d}",
                city=territory,
                legal_representative_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                legal_representative_role=rng.choice(["Président", "Directrice", "Maire"]),
                legal_representative_email=f"direction-{index + 1}@{CANDIDATE_DOMAIN}",
            )
        )
    ctx.organisations = Organisation.objects.bulk_create(organisations, batch_size=BATCH)
    users, owners = [], []
    for organisation in ctx.organisations:
        for _ in range(1 if rng.random() < 0.7 else 2):
            users.append(
                User(
                    email=f"candidat-{len(users) + 1:06d}@{CANDIDATE_DOMAIN}",
                    password=UNUSABLE_PASSWORD,
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    job_title="Chargée de mission insertion",
                    email_verified_at=ctx.now,
                    date_joined=ctx.now,
                )
            )
            owners.append(organisation.pk)
    users = User.objects.bulk_create(users, batch_size=BATCH)
    group = Group.objects.get(name=Role.CANDIDAT)
    UserGroup = User.groups.through
    UserGroup.objects.bulk_create(
        [UserGroup(user_id=user.pk, group_id=group.pk) for user in users], batch_size=BATCH
    )
    for user, organisation_id in zip(users, owners, strict=True):
        ctx.members.setdefault(organisation_id, []).append(user.pk)
    Membership.objects.bulk_create(
        [
            Membership(organisation_id=organisation_id, user_id=user.pk, joined_at=ctx.now)
            for user, organisation_id in zip(users, owners, strict=True)
        ],
        batch_size=BATCH,
    )
    territories = list(Territory.objects.values_list("pk", flat=True))
    OrganisationTerritory = Organisation.territories.through
    links = OrganisationTerritory.objects.bulk_create(
        [
            OrganisationTerritory(organisation_id=organisation.pk, territory_id=territory)
            for organisation in ctx.organisations
            for territory in rng.sample(territories, min(len(territories), rng.randint(1, 3)))
        ],
        batch_size=BATCH,
    )
    return {
        "organisations": len(ctx.organisations),
        "candidates": len(users),
        "organisation_territories": len(links),
    }


def _submitted_at(call: Call, rng: random.Random, now: dt.datetime) -> dt.datetime:
    """Most dossiers arrive in the last days before the deadline."""
    end = min(call.deadline, now)
    return (end - (end - call.opens_at) * rng.random() ** 3).replace(microsecond=0)


def _dossiers(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    plans = []
    for call in ctx.calls:
        count = ctx.per_call.get(call.pk, 0)
        lots = ctx.lots.get(call.pk, [])
        for position, organisation in enumerate(rng.sample(ctx.organisations, count)):
            full = position == 0
            submitted = full or rng.random() < SUBMITTED_SHARE
            member_id = rng.choice(ctx.members[organisation.pk])
            plan = Plan(
                candidature=Candidature(
                    call=call,
                    organisation=organisation,
                    status=CandidatureStatus.SUBMITTED if submitted else CandidatureStatus.DRAFT,
                    submitted_at=_submitted_at(call, rng, ctx.now) if submitted else None,
                    created_by_id=member_id,
                ),
                member_id=member_id,
                submitted=submitted,
                full=full,
            )
            chosen = (2 if full else rng.randint(1, 2)) if submitted else rng.randint(0, 1)
            plan.lot_ids = sorted(lot.pk for lot in rng.sample(lots, min(chosen, len(lots))))
            plans.append(plan)
    Candidature.objects.bulk_create([plan.candidature for plan in plans], batch_size=BATCH)
    ctx.dossiers = plans
    DossierLot = Candidature.lots.through
    lots = DossierLot.objects.bulk_create(
        [
            DossierLot(candidature_id=plan.candidature.pk, lot_id=lot_id)
            for plan in plans
            for lot_id in plan.lot_ids
        ],
        batch_size=BATCH,
    )
    return {
        "dossiers": len(plans),
        "submitted": sum(plan.submitted for plan in plans),
        "dossier_lots": len(lots),
    }


def _answer(question: Question, call: Call, rng: random.Random, texts: list[str]):
    """A value as ``candidatures.answers.to_json`` stores it."""
    kind = question.kind
    if kind in (QuestionKind.LONG_TEXT, QuestionKind.SHORT_TEXT):
        limit = question.max_length or (250 if kind == QuestionKind.SHORT_TEXT else None)
        return rng.choice(texts)[:limit]
    if kind == QuestionKind.CHOICES:
        choices = question.choice_list
        return rng.sample(choices, min(len(choices), rng.randint(1, 3)))
    if kind == QuestionKind.CHOICE:
        return rng.choice(question.choice_list)
    if kind == QuestionKind.YES_NO:
        return rng.random() < 0.6
    if kind == QuestionKind.NUMBER:
        return rng.choice(["0.25", "0.5", "1"])
    if kind == QuestionKind.AMOUNT:
        return f"{rng.randint(10, 90) * 1000}.00"
    if kind == QuestionKind.DATE:
        return (call.deadline.date() + dt.timedelta(days=rng.randint(30, 120))).isoformat()
    raise ValueError(kind)


def _answers(ctx: Context) -> dict[str, int]:
    """Submitted dossiers answer every required question and most others; drafts half."""
    rng = ctx.rng
    texts = [" ".join(rng.choices(SENTENCES, k=rng.randint(2, 14))) for _ in range(64)]

    def rows():
        for plan in ctx.dossiers:
            candidature = plan.candidature
            for question in ctx.form.get(candidature.call_id, []):
                if question.kind == QuestionKind.LOTS:
                    value = plan.lot_ids
                elif plan.submitted:
                    keep = question.required or plan.full or rng.random() < 0.6
                    value = _answer(question, candidature.call, rng, texts) if keep else None
                else:
                    keep = rng.random() < 0.5
                    value = _answer(question, candidature.call, rng, texts) if keep else None
                if value in (None, []):
                    continue
                yield candidature.pk, question.pk, json.dumps(value), ctx.now

    columns = ["candidature", "question", "value", "updated_at"]
    return {"answers": _copy(Answer, columns, rows())}


def _documents(ctx: Context) -> dict[str, int]:
    """Rows of uploaded files (fake SHA-256 and size, no file on disk)."""
    rng = ctx.rng

    def rows():
        for plan in ctx.dossiers:
            candidature = plan.candidature
            call = candidature.call
            last = candidature.submitted_at or min(call.deadline, ctx.now)
            for required in ctx.required.get(call.pk, []):
                if plan.submitted:
                    if not required.mandatory and rng.random() < 0.5:
                        continue
                    count = (2 if plan.full else rng.randint(1, 3)) if required.multiple else 1
                elif rng.random() < 0.5:
                    continue
                else:
                    count = 1
                stem = DOCUMENT_STEMS[required.position % len(DOCUMENT_STEMS)]
                formats = required.allowed_formats
                for number in range(1, count + 1):
                    file_format = (
                        "pdf" if "pdf" in formats and rng.random() < 0.6 else rng.choice(formats)
                    )
                    name = (
                        f"{stem} {number}.{file_format}" if count > 1 else f"{stem}.{file_format}"
                    )
                    size = min(max(int(rng.lognormvariate(13, 1)), 20_000), required.max_size_bytes)
                    sha256 = rng.randbytes(32).hex()
                    if plan.submitted:
                        plan.documents.append(
                            {"piece": required.label, "name": name, "size": size, "sha256": sha256}
                        )
                    yield (
                        candidature.pk,
                        required.pk,
                        f"dossiers/{call.pk}/{rng.randbytes(16).hex()}",
                        name,
                        size,
                        sha256,
                        file_format,
                        plan.member_id,
                        last - dt.timedelta(minutes=rng.randint(5, 5000)),
                    )

    columns = [
        "candidature",
        "required_document",
        "file",
        "original_name",
        "size",
        "sha256",
        "file_format",
        "uploaded_by",
        "uploaded_at",
    ]
    return {"documents": _copy(Document, columns, rows())}


def _manifest(plan: Plan, lot_names: dict[int, str], kinds: dict[str, str]) -> dict:
    """What ``candidatures.receipts.build_manifest`` freezes at submission."""
    candidature = plan.candidature
    organisation, call = candidature.organisation, candidature.call
    return {
        "organisation": {
            "name": organisation.name,
            "kind": kinds[organisation.kind],
            "siret": organisation.siret,
        },
        "call": {
            "reference": call.reference,
            "title": call.title,
            "deadline": call.deadline.isoformat(),
        },
        "lots": [lot_names[lot_id] for lot_id in plan.lot_ids],
        "submitted_at": candidature.submitted_at.isoformat(),
        "documents": plan.documents,
    }


def _follow_up(ctx: Context) -> dict[str, int]:
    """For submitted dossiers: history, receipts numbered per call in the order of
    submission, paper copies, messages and requests for pieces."""
    rng = ctx.rng
    staff = instructeur()
    lot_names = {lot.pk: lot.name for lots in ctx.lots.values() for lot in lots}
    # get_kind_display() translates a lazy string per call: slow for 17,000 receipts.
    kinds = {code: str(label) for code, label in OrganisationKind.choices}
    submitted = sorted(
        (plan for plan in ctx.dossiers if plan.submitted),
        key=lambda plan: (plan.candidature.call_id, plan.candidature.submitted_at),
    )
    changes, receipts, papers, messages, requests, requested = [], [], [], [], [], []
    sequence, previous_call = 0, None
    for plan in submitted:
        candidature = plan.candidature
        call, at = candidature.call, candidature.submitted_at
        sequence = sequence + 1 if call.pk == previous_call else 1
        previous_call = call.pk
        changes.append(
            CandidatureStatusChange(
                candidature_id=candidature.pk,
                action=CandidatureAction.SUBMIT,
                from_status=CandidatureStatus.DRAFT,
                to_status=CandidatureStatus.SUBMITTED,
                by_id=plan.member_id,
                at=at,
            )
        )
        receipts.append(
            (
                candidature.pk,
                call.pk,
                sequence,
                f"{call.reference}-{sequence:04d}",
                at,
                plan.member_id,
                json.dumps(_manifest(plan, lot_names, kinds)),
                base64.urlsafe_b64encode(rng.randbytes(9)).decode(),
                "",
            )
        )
        if call.paper_copy_required and (plan.full or rng.random() < 0.7):
            posted = timezone.localtime(at).date()
            papers.append(
                PaperCopy(
                    candidature_id=candidature.pk,
                    method=PaperMethod.MAIL,
                    postmarked_on=posted,
                    received_on=posted + dt.timedelta(days=rng.randint(1, 4)),
                    identical=rng.choice([Identical.YES, Identical.YES, Identical.UNCHECKED]),
                    recorded_by_id=staff.pk,
                    recorded_at=at + dt.timedelta(days=5),
                )
            )
        for number in range(2 if plan.full else int(rng.random() < 0.1)):
            from_staff = number == 0 and plan.full
            messages.append(
                Message(
                    candidature_id=candidature.pk,
                    author_id=staff.pk if from_staff else plan.member_id,
                    from_staff=from_staff,
                    body="Pouvez-vous préciser le calendrier des réunions du réseau ?"
                    if from_staff
                    else "Voici le calendrier prévu, joint au dossier de demande.",
                    created_at=at + dt.timedelta(days=number + 1),
                )
            )
        if plan.full or rng.random() < 0.03:
            requests.append(
                PieceRequest(
                    candidature_id=candidature.pk,
                    message="Le budget de la structure manque : merci de le joindre.",
                    due_at=at + dt.timedelta(days=14),
                    created_by_id=staff.pk,
                    created_at=at + dt.timedelta(days=3),
                    closed_at=at + dt.timedelta(days=10),
                )
            )
            requested.append(ctx.required[call.pk][1].pk)
    CandidatureStatusChange.objects.bulk_create(changes, batch_size=BATCH)
    columns = [
        "candidature",
        "call",
        "sequence",
        "number",
        "submitted_at",
        "submitted_by",
        "manifest",
        "token",
        "pdf",
    ]
    _copy(Receipt, columns, receipts)
    PaperCopy.objects.bulk_create(papers, batch_size=BATCH)
    Message.objects.bulk_create(messages, batch_size=BATCH)
    PieceRequest.objects.bulk_create(requests, batch_size=BATCH)
    RequestedPiece = PieceRequest.required_documents.through
    RequestedPiece.objects.bulk_create(
        [
            RequestedPiece(piecerequest_id=piece_request.pk, requireddocument_id=required_id)
            for piece_request, required_id in zip(requests, requested, strict=True)
        ],
        batch_size=BATCH,
    )
    return {
        "dossier_status_changes": len(changes),
        "receipts": len(receipts),
        "paper_copies": len(papers),
        "messages": len(messages),
        "piece_requests": len(requests),
    }


# Evaluations, scores and agreements will follow the same way, downstream of dossiers.
STEPS = [
    _programmes,
    _calls,
    _structure,
    _form,
    _questions,
    _history,
    _candidates,
    _dossiers,
    _answers,
    _documents,
    _follow_up,
]


def generate(shape: Shape, *, now: dt.datetime | None = None) -> dict[str, int]:
    ctx = Context(shape=shape, rng=random.Random(shape.seed), now=now or timezone.now())
    counts = {}
    for step in STEPS:
        counts.update(step(ctx))
    return counts


def truncate() -> None:
    """Empty every table of calls and organisations (and, by CASCADE, everything that
    refers to them: dossiers, answers, documents, receipts…), then remove the bench's
    candidate accounts. Other accounts (the instructeur) stay."""
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Programme, Call, Organisation)
    )
    accounts = f"SELECT id FROM {User._meta.db_table} WHERE email LIKE %s"
    pattern = [f"%@{CANDIDATE_DOMAIN}"]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE")
        for model, column in ((User.groups.through, "user_id"), (OutgoingEmail, "user_id")):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE {column} IN ({accounts})", pattern
            )
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id IN ({accounts})", pattern)


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
        and Candidature.objects.count() == counts.get("dossiers", 0)
        and Receipt.objects.count() == counts.get("receipts", 0)
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


def session_cookie(user: User) -> str:
    """A ``Cookie`` header value that logs ``user`` in, as the login form and the second
    factor's code would."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from core.accounts import mfa

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # Staff need a second factor: the session is the one a right TOTP code leaves.
    if _second_factor(user):
        mfa.mark_session_verified(session, user, method=mfa.TOTP_METHOD)
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _second_factor(user: User) -> bool:
    """Whether ``user`` passes a second factor at login; staff get their TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.accounts import mfa

    if not (mfa.requires_second_factor(user) or mfa.has_second_factor(user)):
        return False
    if mfa.totp_device(user) is None:
        TOTPDevice.objects.create(user=user, name="Banc d'essai", confirmed=True)
    return True
