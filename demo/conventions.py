"""The follow-up indicators of the seed call, measuring its own objectives, and the
agreements of the demonstration call whose decisions are notified.

The indicators follow the call's text (``demo/source/``): its objectives are outcomes
(priority publics hired through social clauses, new contracting authorities and sectors,
hours of insertion work, the Vercors), and a few activities it lists (the network's
meetings, its collaboration space, which is a level: active or not). The targets are
demonstration values: the Service IVE sets the real ones per call on the page
« Conventions » of the call's back-office.

The agreements are dated from their decision: prepared, sent and signed on the day the
decisions are recorded (the load), their period starting the first day of the next
month; the advance, due at signature, is paid that day; the launch meeting is held with
the DDETS. Nothing is dated before the decision; the reports and the balance come later.
"""

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from candidatures.models import Membership
from conventions import services
from conventions.dates import quarter_bounds
from conventions.models import Indicator
from conventions.states import IndicatorKind, PaymentAction, ReportKind
from core.dates import local_datetime
from core.models import User
from demo import modeles
from evaluation.models import Decision
from evaluation.states import DecisionOutcome

CUMULATIVE, LEVEL = IndicatorKind.CUMULATIVE, IndicatorKind.LEVEL
# (label, unit, kind, annual target)
SEED_INDICATORS = [
    (
        "Personnes des publics prioritaires (allocataires du RSA, demandeurs d'emploi de "
        "longue durée) recrutées grâce aux clauses sociales",
        "personnes",
        CUMULATIVE,
        Decimal("40"),
    ),
    (
        "Heures de travail d'insertion générées par les clauses sociales",
        "heures",
        CUMULATIVE,
        Decimal("20000"),
    ),
    (
        "Nouveaux donneurs d'ordre intégrant des clauses sociales",
        "donneurs d'ordre",
        CUMULATIVE,
        Decimal("6"),
    ),
    (
        "Nouveaux secteurs d'activité ouverts aux clauses sociales",
        "secteurs",
        CUMULATIVE,
        Decimal("3"),
    ),
    ("Actions menées sur le territoire du Vercors", "actions", CUMULATIVE, Decimal("4")),
    ("Réunions du réseau des facilitateurs co-animées", "réunions", CUMULATIVE, Decimal("6")),
    ("Espace numérique de collaboration actif", "1 = actif", LEVEL, Decimal("1")),
]

# Values a quarter of an agreement gives, on the indicators in this order, once elapsed.
QUARTER_VALUES = [Decimal("8"), Decimal("4500"), Decimal("1"), Decimal("1"), Decimal("1")]
LAUNCH_MINUTES = (
    "Réunion de lancement de démonstration : calendrier des réunions du réseau arrêté, "
    "espace numérique en cours d'ouverture, premiers contacts avec deux bailleurs sociaux "
    "et la communauté de communes du Massif du Vercors."
)
LAUNCH_ADJUSTMENTS = "Prévoir une première action sur le Vercors dès le premier trimestre."
DDETS_REMARK = (
    "La DDETS relaie les rencontres du réseau auprès des services de l'État acheteurs et "
    "propose d'y associer le SPE local."
)


def add_seed_indicators(call) -> None:
    if call.indicators.exists():
        return
    Indicator.objects.bulk_create(
        Indicator(call=call, position=position, label=label, unit=unit, kind=kind, target=target)
        for position, (label, unit, kind, target) in enumerate(SEED_INDICATORS, start=1)
    )


def _pdf(name: str, title: str, convention) -> SimpleUploadedFile:
    lines = [convention.beneficiary_name, "Document de démonstration : contenu fictif."]
    return SimpleUploadedFile(
        name, modeles.sample_pdf(title, lines), content_type="application/pdf"
    )


def _member_of(convention, candidate: User) -> User:
    """The demo candidate where it is a member, else the organisation's fictional member."""
    members = Membership.objects.filter(organisation=convention.organisation)
    if members.filter(user=candidate).exists():
        return candidate
    return members.select_related("user").order_by("pk").first().user


def _elapsed_quarters(convention, today: dt.date) -> list[int]:
    return [
        number
        for number in range(1, convention.quarters + 1)
        if quarter_bounds(convention.period_start, number)[1] < today
    ]


def run_demo_conventions(call, *, instructeur: User, ddets: User, candidate: User) -> list:
    """One agreement per selected decision of ``call``, from the first day of the month
    after its decision: sent and signed with a scanned PDF the day the decisions are
    recorded, its advance requested, ordered and paid that day; a launch meeting held
    with a DDETS remark and, for the demo candidate's organisation, the first progress
    review in ten days. Once the period has begun, the agreement runs and
    each elapsed quarter has its indicator values. Returns the agreements."""
    today = timezone.localdate()
    decisions = (
        Decision.objects.filter(candidature__call=call, outcome=DecisionOutcome.SELECTED)
        .select_related("candidature__organisation", "lot")
        .order_by("lot__position")
    )
    indicators = list(call.indicators.order_by("position")[: len(QUARTER_VALUES)])
    conventions = []
    for index, decision in enumerate(decisions):
        convention = services.create_convention(decision, by=instructeur)
        services.send_for_signature(convention, by=instructeur)
        services.record_signature(
            convention,
            by=instructeur,
            signed_on=today,
            uploaded=_pdf("Convention signée.pdf", "Convention de partenariat signée", convention),
        )
        if convention.period_start <= today:
            services.start_convention(convention, by=instructeur)
        advance = convention.payments.order_by("position").first()
        for action in (PaymentAction.REQUEST, PaymentAction.ORDER, PaymentAction.PAY):
            services.move_payment(
                advance,
                action,
                by=instructeur,
                on=today,
                reference=f"MANDAT-{convention.year}-DEMO-{index + 1:04d}",
            )
        launch = services.schedule_review(
            convention,
            by=instructeur,
            # The launch meeting, held at the start of the current hour: today, and past.
            scheduled_at=timezone.now().replace(minute=0, second=0, microsecond=0),
            place="Visioconférence",
            participants="Service IVE, DDETS, porteur de projet",
        )
        services.record_review(
            launch, by=instructeur, minutes=LAUNCH_MINUTES, adjustments=LAUNCH_ADJUSTMENTS
        )
        services.add_remark(launch, by=ddets, text=DDETS_REMARK)
        member = _member_of(convention, candidate)
        for period in _elapsed_quarters(convention, today):
            for indicator, value in zip(indicators, QUARTER_VALUES, strict=True):
                services.report_indicator(
                    convention, indicator, by=member, period=period, value=value
                )
        if member == candidate:
            services.schedule_review(
                convention,
                by=instructeur,
                scheduled_at=local_datetime(today + dt.timedelta(days=10), dt.time(14, 0)),
                place="Siège de la structure",
                participants="Service IVE, DDETS, porteur de projet",
            )
        intermediate = convention.reports.get(kind=ReportKind.INTERMEDIATE)
        if intermediate.due_on <= today:
            services.submit_report(
                intermediate,
                by=member,
                uploaded=_pdf("Bilan intermédiaire.pdf", "Bilan intermédiaire", convention),
            )
        conventions.append(convention)
    return conventions
