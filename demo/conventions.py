"""The follow-up indicators of the seed call, as the issue of the Service IVE lists them,
and the running agreements of the demonstration call whose decisions are notified.

The targets are demonstration values: the Service IVE sets the real ones per call on the
page « Conventions » of the call's back-office.
"""

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from candidatures.models import Membership
from conventions import services
from conventions.models import Indicator
from conventions.states import PaymentAction, ReportKind
from core.dates import local_datetime
from core.models import User
from demo import modeles
from evaluation.models import Decision
from evaluation.states import DecisionOutcome

SEED_INDICATORS = [
    ("Réunions du réseau des facilitateurs co-animées", "réunions", Decimal("6")),
    ("Espace numérique de collaboration actif", "espace", Decimal("1")),
    (
        "Événements avec des donneurs d'ordre (bailleurs sociaux…)",
        "événements",
        Decimal("2"),
    ),
    ("Actions menées avec le secteur du handicap", "actions", Decimal("2")),
    ("Actions menées sur le territoire du Vercors", "actions", Decimal("3")),
    (
        "Contribution au bilan départemental des clauses sociales",
        "contribution",
        Decimal("1"),
    ),
]


def add_seed_indicators(call) -> None:
    if call.indicators.exists():
        return
    Indicator.objects.bulk_create(
        Indicator(call=call, position=position, label=label, unit=unit, target=target)
        for position, (label, unit, target) in enumerate(SEED_INDICATORS, start=1)
    )


# Values reported per quarter on the first indicators (réunions, espace, événements).
QUARTER_VALUES = [Decimal("2"), Decimal("1"), Decimal("1")]
REVIEW_MINUTES = (
    "Point d'étape de démonstration : les réunions du réseau ont commencé, l'espace "
    "numérique est ouvert ; le premier événement avec les bailleurs sociaux est prévu."
)
REVIEW_ADJUSTMENTS = "Décaler l'action sur le Vercors au trimestre suivant."
DDETS_REMARK = (
    "La DDETS relaie les rencontres du réseau auprès des services de l'État acheteurs et "
    "propose d'y associer le SPE local."
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


def run_demo_conventions(call, *, instructeur: User, ddets: User, candidate: User) -> list:
    """One agreement per selected decision of ``call``, signed with a scanned PDF and
    running, all on the day of the decisions; its advance paid; a progress review held
    with a DDETS remark; indicator
    values for the past quarters; the intermediate report sent by the organisation that is
    not the demo candidate's, and due in ten days for the demo candidate's, whose next
    progress review comes in ten days. Returns the agreements."""
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    # The quarters gone by (the first one, early in the year, so that the chart has a point).
    periods = range(1, max(quarter - 1, 1) + 1)
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
            # Everything after the decisions happens on the day they are recorded (the
            # load): the services date decisions and letters "now".
            signed_on=today,
            uploaded=_pdf("Convention signée.pdf", "Convention de partenariat signée", convention),
        )
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
        review = services.schedule_review(
            convention,
            by=instructeur,
            # Held at the start of the current hour: today, and already past.
            scheduled_at=timezone.now().replace(minute=0, second=0, microsecond=0),
            place="Visioconférence",
            participants="Service IVE, DDETS, porteur de projet",
        )
        services.record_review(
            review, by=instructeur, minutes=REVIEW_MINUTES, adjustments=REVIEW_ADJUSTMENTS
        )
        services.add_remark(review, by=ddets, text=DDETS_REMARK)
        member = _member_of(convention, candidate)
        for indicator, value in zip(indicators, QUARTER_VALUES, strict=True):
            for period in periods:
                services.report_indicator(
                    convention, indicator, by=member, period=period, value=value
                )
        intermediate = convention.reports.get(kind=ReportKind.INTERMEDIATE)
        if member == candidate:
            # The report's due date is the agreement's text, with no service to move it:
            # the demo sets it ten days ahead so that the candidate has it to send.
            intermediate.due_on = today + dt.timedelta(days=10)
            intermediate.save(update_fields=["due_on"])
            services.schedule_review(
                convention,
                by=instructeur,
                scheduled_at=local_datetime(today + dt.timedelta(days=10), dt.time(14, 0)),
                place="Siège de la structure",
                participants="Service IVE, DDETS, porteur de projet",
            )
        else:
            services.submit_report(
                intermediate,
                by=member,
                uploaded=_pdf("Bilan intermédiaire.pdf", "Bilan intermédiaire", convention),
            )
        conventions.append(convention)
    return conventions
