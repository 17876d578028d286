"""Loads the seed call (closed, as in 2024), a demonstration copy open for 30 days,
one account per role and, with the accounts, a demonstration copy in instruction whose
fictional dossiers the demo accounts review and a decided one whose agreements are
running. Running it again changes nothing, except that a demo copy whose deadline has
passed is reopened for another 30 days."""

import base64
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from aap.models import (
    Call,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    Programme,
    Question,
    RequiredDocument,
)
from aap.services import close_call, reopen_call
from aap.states import CallAction, CallStatus
from core.dates import local_datetime
from core.models import User
from core.roles import Role
from demo import seed
from demo.conventions import add_seed_indicators, run_demo_conventions
from demo.dates import SEED_DATES, CallDates
from demo.dossiers import CONVENTION_ORGANISATIONS, ORGANISATIONS, submit_demo_dossiers
from demo.evaluation import decide_demo_dossiers, instruct_demo_dossiers

DEMO_DAYS = 30
# The copy in instruction: its deadline passed this many days before the loading.
REVIEW_DAYS_AGO = 10
# The copy whose agreements are running: its deadline passed about four months ago, and
# each of its lots has this budget.
CONVENTION_DAYS_AGO = 120
CONVENTION_LOT_BUDGET = Decimal("25000")


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)


def load_demo(*, with_accounts: bool = True, now: dt.datetime | None = None) -> Report:
    now = now or timezone.now()
    report = Report()
    with transaction.atomic():
        programme, created = Programme.objects.get_or_create(
            short_name=seed.PROGRAMME["short_name"], defaults=seed.PROGRAMME
        )
        if created:
            report.created.append(str(programme))
        _load_seed_call(programme, report)
        _load_demo_call(programme, report, now)
        if with_accounts:
            _load_accounts(report)
            # Its dossiers belong to the demo candidate and are reviewed by the demo staff.
            _load_review_call(programme, report, now)
            _load_convention_call(programme, report, now)
    return report


def _create_call(
    programme,
    *,
    reference,
    slug,
    title,
    opens_at,
    deadline,
    is_demo,
    dates,
    funding_request_generated=False,
):
    """A call of the seed's text whose texts name the dates of ``dates``."""
    return Call.objects.create(
        programme=programme,
        reference=reference,
        slug=slug,
        opens_at=opens_at,
        deadline=deadline,
        is_demo=is_demo,
        funding_request_generated=funding_request_generated,
        **{**seed.call_fields(dates), "title": title},
    )


def _add_structure(call, *, dates, lot_budget=None):
    generated = call.funding_request_generated
    for position, label in enumerate(seed.EXPECTED_ACTIONS, start=1):
        ExpectedAction.objects.create(call=call, position=position, label=label)
    for position, lot in enumerate(seed.LOTS, start=1):
        Lot.objects.create(call=call, position=position, budget=lot_budget, **lot)
    for position, spec in enumerate(seed.CRITERIA, start=1):
        criterion = Criterion.objects.create(
            call=call, position=position, title=spec["title"], weight=spec["weight"]
        )
        for sub_position, title in enumerate(spec["subcriteria"], start=1):
            criterion.subcriteria.create(position=sub_position, title=title)
    for position, spec in enumerate(seed.QUESTIONS, start=1):
        spec = {key: seed.dated(value, dates) for key, value in spec.items()}
        Question.objects.create(call=call, position=position, **spec)
    for position, spec in enumerate(seed.required_documents(generated=generated), start=1):
        spec = dict(spec)
        template = spec.pop("template")
        document = RequiredDocument(call=call, position=position, **spec)
        if template is not None:
            _attach_template(document, template, dates)
        document.save()
    add_seed_indicators(call)


def _attach_template(document, template, dates):
    name, build = template
    name, content = dates.fill(name), build(dates)
    document.template_name = name
    document.template_size = len(content)
    document.template.save(name, ContentFile(content), save=False)


def _redate(call, dates):
    """A copy whose deadline moved names the new one in its texts, its questions' help
    and its annexes. The rows are written directly (``update``), past the rule that
    freezes a published call's structure: the demo rebuilds its own copy, and what it
    changes is only the dates its texts name."""
    fields = seed.call_fields(dates)
    Call.objects.filter(pk=call.pk).update(**{key: fields[key] for key in seed.DATED_FIELDS})
    for question, spec in zip(
        call.form_questions.order_by("position"), seed.QUESTIONS, strict=True
    ):
        type(question).objects.filter(pk=question.pk).update(
            help_text=seed.dated(spec.get("help_text", ""), dates)
        )
    documents = call.required_documents.order_by("position")
    specs = seed.required_documents(generated=call.funding_request_generated)
    for document, spec in zip(documents, specs, strict=True):
        if spec["template"] is not None:
            document.template.delete(save=False)
            _attach_template(document, spec["template"], dates)
            type(document).objects.filter(pk=document.pk).update(
                template=document.template.name,
                template_name=document.template_name,
                template_size=document.template_size,
            )


def _load_seed_call(programme, report):
    if Call.objects.filter(reference=seed.REFERENCE).exists():
        return
    opens_at = local_datetime(seed.OPENS_ON, dt.time(0, 0))
    deadline = local_datetime(seed.DEADLINE_DAY, seed.DEADLINE_TIME)
    call = _create_call(
        programme,
        reference=seed.REFERENCE,
        slug=seed.SLUG,
        title=seed.CALL["title"],
        opens_at=opens_at,
        deadline=deadline,
        is_demo=False,
        dates=SEED_DATES,
    )
    _add_structure(call, dates=SEED_DATES)
    # The call was published and closed in 2024, before the platform: its history says so.
    Call.objects.filter(pk=call.pk).update(status=CallStatus.CLOSED, published_at=opens_at)
    CallStatusChange.objects.bulk_create(
        [
            CallStatusChange(
                call=call,
                action=CallAction.PUBLISH,
                from_status=CallStatus.DRAFT,
                to_status=CallStatus.PUBLISHED,
                at=opens_at,
                note="Appel publié le 31 juillet 2024, repris sur la plateforme.",
            ),
            CallStatusChange(
                call=call,
                action=CallAction.CLOSE,
                from_status=CallStatus.PUBLISHED,
                to_status=CallStatus.CLOSED,
                at=deadline,
                note="Clôture à la date limite de réception des dossiers.",
            ),
        ]
    )
    report.created.append(str(call))


def _demo_deadline(now):
    day = timezone.localtime(now).date() + dt.timedelta(days=DEMO_DAYS)
    return local_datetime(day, seed.DEADLINE_TIME)


def _publish(call, *, at, note):
    """A demo copy published at ``at`` (its launch, in the past for the past copies), with
    the history row the workflow would write."""
    Call.objects.filter(pk=call.pk).update(status=CallStatus.PUBLISHED, published_at=at)
    CallStatusChange.objects.create(
        call=call,
        action=CallAction.PUBLISH,
        from_status=CallStatus.DRAFT,
        to_status=CallStatus.PUBLISHED,
        at=at,
        note=note,
    )


def _load_demo_call(programme, report, now):
    call = Call.objects.filter(reference=seed.DEMO_REFERENCE).first()
    if call is None:
        opens_at = local_datetime(timezone.localtime(now).date() - dt.timedelta(days=1), dt.time())
        deadline = _demo_deadline(now)
        call = _create_call(
            programme,
            reference=seed.DEMO_REFERENCE,
            slug=seed.DEMO_SLUG,
            title=f"{seed.CALL['title']} (démonstration)",
            opens_at=opens_at,
            deadline=deadline,
            is_demo=True,
            dates=CallDates(deadline),
            # One entry, one official document: the dossier de demande is made from the
            # answers, the DOCX model is not asked for.
            funding_request_generated=True,
        )
        _add_structure(call, dates=CallDates(deadline))
        _publish(call, at=now, note="Copie de démonstration de l'appel 2024, ouverte 30 jours.")
        report.created.append(str(call))
        return
    if call.deadline < now and call.status in (CallStatus.PUBLISHED, CallStatus.CLOSED):
        # A newcomer trying the platform weeks later still finds an open demonstration.
        if call.status == CallStatus.PUBLISHED:
            close_call(call, by=None, note="Clôture à la date limite.")
        deadline = _demo_deadline(now)
        call = reopen_call(
            call, by=None, deadline=deadline, note="Démonstration rouverte pour 30 jours."
        )
        _redate(call, CallDates(deadline))
        report.created.append(f"{call} (rouvert jusqu'au {timezone.localtime(deadline):%d/%m/%Y})")


def _load_accounts(report):
    for spec in seed.ACCOUNTS:
        user = User.objects.filter(email=spec["email"]).first()
        if user is None:
            user = User.objects.create_user(
                email=spec["email"],
                password=seed.DEMO_PASSWORD,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
                job_title=spec["job_title"],
                email_verified_at=timezone.now(),
                is_staff=spec.get("superuser", False),
                is_superuser=spec.get("superuser", False),
            )
            user.groups.set(Group.objects.filter(name__in=spec["roles"]))
            report.created.append(user.email)
        secret = seed.DEMO_TOTP_SECRETS.get(spec["email"])
        if secret and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(
                user=user,
                name="Démonstration",
                key=base64.b32decode(secret).hex(),
                confirmed=True,
            )
        role = ", ".join(spec["roles"]) or "administrateur"
        report.accounts.append((spec["email"], role))


@dataclass(frozen=True)
class PastCall:
    """A demo copy whose deadline passed ``days_ago`` days before the loading."""

    reference: str
    slug: str
    title: str
    days_ago: int
    note: str
    lot_budget: Decimal | None = None


REVIEW_CALL = PastCall(
    seed.REVIEW_REFERENCE,
    seed.REVIEW_SLUG,
    "démonstration, en instruction",
    REVIEW_DAYS_AGO,
    "Copie de démonstration de l'appel 2024, dont les dossiers sont en instruction.",
)
CONVENTION_CALL = PastCall(
    seed.CONVENTION_REFERENCE,
    seed.CONVENTION_SLUG,
    "démonstration, conventions en cours",
    CONVENTION_DAYS_AGO,
    "Copie de démonstration de l'appel 2024, dont les conventions sont en cours.",
    lot_budget=CONVENTION_LOT_BUDGET,
)


def _load_past_call(programme, report, now, spec: PastCall, organisations):
    """The copy of ``spec`` with one dossier per organisation of ``organisations``,
    submitted before its deadline (17:00 Paris), then closed at that deadline; returns the
    call, its dossiers and the demo accounts, or None if the copy is already loaded."""
    if Call.objects.filter(reference=spec.reference).exists():
        return None
    accounts = {user.email: user for user in User.objects.filter(email__endswith="@demo.example")}
    instructeur = accounts["instructeur@demo.example"]
    instructeur.groups.add(Group.objects.get(name=Role.EVALUATEUR))  # accounts of older loads
    day = timezone.localtime(now).date() - dt.timedelta(days=spec.days_ago)
    deadline = local_datetime(day, seed.DEADLINE_TIME)
    opens_at = local_datetime(day - dt.timedelta(days=DEMO_DAYS), dt.time())
    # The services take a dossier's content only while its call is open: the call takes
    # the dossiers with a deadline ahead of the clock, then gets its real one back.
    call = _create_call(
        programme,
        reference=spec.reference,
        slug=spec.slug,
        title=f"{seed.CALL['title']} ({spec.title})",
        opens_at=opens_at,
        deadline=max(now, timezone.now()) + dt.timedelta(days=1),
        is_demo=True,
        dates=CallDates(deadline),
    )
    _add_structure(call, dates=CallDates(deadline), lot_budget=spec.lot_budget)
    _publish(call, at=opens_at, note=spec.note)
    report.created.append(str(call))
    call.refresh_from_db()

    dossiers = submit_demo_dossiers(
        call,
        deadline=deadline,
        candidate=accounts["candidat@demo.example"],
        organisations=organisations,
    )
    call.refresh_from_db()
    close_call(call, by=None, note="Clôture automatique à la date limite de réception.")
    # The automatic close runs at the deadline.
    call.status_changes.filter(action=CallAction.CLOSE).update(at=deadline)
    for dossier in dossiers:
        receipt = dossier.receipts.get()
        report.created.append(f"{receipt.number} : dossier déposé de {dossier.organisation}")
    return call, dossiers, accounts


def _load_review_call(programme, report, now):
    """A copy under review: fictional dossiers submitted before a deadline passed
    ``REVIEW_DAYS_AGO`` days ago, admissibility decided, the instructeur's evaluations
    submitted and the evaluator's to do."""
    if not (loaded := _load_past_call(programme, report, now, REVIEW_CALL, ORGANISATIONS)):
        return
    _call, dossiers, accounts = loaded
    instructeur = accounts["instructeur@demo.example"]
    done = instruct_demo_dossiers(
        dossiers, instructeur=instructeur, evaluator=accounts["evaluateur@demo.example"]
    )
    report.created.append(
        f"{seed.REVIEW_REFERENCE} : {done['admissible']} dossiers recevables, "
        f"{done['inadmissible']} irrecevable, évaluations de {instructeur.email} déposées, "
        f"celles de evaluateur@demo.example à faire"
    )


def _load_convention_call(programme, report, now):
    """A copy decided about four months after its deadline: both demo evaluators have
    scored, the DDETS has given its opinions, the committee has selected one dossier per
    lot within the lot's budget, the letters are sent; the agreements are signed, running,
    their advance paid, a progress review held, indicators and a report sent."""
    loaded = _load_past_call(programme, report, now, CONVENTION_CALL, CONVENTION_ORGANISATIONS)
    if not loaded:
        return
    call, dossiers, accounts = loaded
    instructeur, ddets = accounts["instructeur@demo.example"], accounts["ddets@demo.example"]
    deadline = timezone.localtime(call.status_changes.get(action=CallAction.CLOSE).at)
    instruct_demo_dossiers(
        dossiers,
        instructeur=instructeur,
        evaluator=accounts["evaluateur@demo.example"],
        evaluator_scores=True,
        due_at=local_datetime(deadline.date() + dt.timedelta(days=28), seed.DEADLINE_TIME),
    )
    letters = decide_demo_dossiers(dossiers, instructeur=instructeur, ddets=ddets)
    conventions = run_demo_conventions(
        call, instructeur=instructeur, ddets=ddets, candidate=accounts["candidat@demo.example"]
    )
    report.created.append(
        f"{seed.CONVENTION_REFERENCE} : {letters} décisions notifiées, conventions en cours "
        + ", ".join(convention.number for convention in conventions)
    )
