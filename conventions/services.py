"""Every write on agreements: creation from a decision, status moves, amendments,
payments (never above the amount), progress reviews, reports, indicators, renewal."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from candidatures import rules as dossier_rules
from conventions.models import (
    Amendment,
    Convention,
    ConventionStatusChange,
    FundingTerms,
    Indicator,
    IndicatorValue,
    Payment,
    PaymentStatusChange,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.states import (
    CONVENTION_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    PaymentStatus,
    ReportKind,
)
from core import rules as core_rules
from core.exceptions import DomainError
from core.models import User
from core.uploads import check_upload, clean_filename, sha256_of
from core.workflow import Workflow
from evaluation.models import Decision
from evaluation.states import DecisionOutcome

convention_workflow = Workflow(
    transitions=CONVENTION_TRANSITIONS,
    statuses=ConventionStatus,
    actions=ConventionAction,
    history_model=ConventionStatusChange,
    history_field="convention",
)
payment_workflow = Workflow(
    transitions=PAYMENT_TRANSITIONS,
    statuses=PaymentStatus,
    actions=PaymentAction,
    history_model=PaymentStatusChange,
    history_field="payment",
)

SCAN_MAX_BYTES = 20 * 1024 * 1024
REPORT_MAX_BYTES = 30 * 1024 * 1024


def can_manage(user, obj=None) -> bool:
    return core_rules.is_instructeur(user)


def _euros(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True) + " €"


# --- Creation and renewal ----------------------------------------------------------------------


def funding_terms(call) -> FundingTerms:
    terms, _created = FundingTerms.objects.get_or_create(call=call)
    return terms


def _next_number(call, year: int) -> str:
    prefix = f"CONV-{year}-{call.reference.removeprefix('AAP-')}-"
    taken = Convention.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    sequence = max((int(number.rsplit("-", 1)[1]) for number in taken), default=0) + 1
    return f"{prefix}{sequence:03d}"


def _default_texts(call, lot, terms: FundingTerms) -> dict:
    actions = "\n".join(f"- {action.label}" for action in call.expected_actions.all())
    return {
        "object": _(
            "%(title)s – lot %(lot)s. Le bénéficiaire met en œuvre l'action décrite dans son "
            "dossier de candidature, notamment :\n%(actions)s"
        )
        % {"title": call.title, "lot": lot.name, "actions": actions},
        "payment_terms": _(
            "Une avance de %(advance)s %% du montant est versée dans les %(days)s jours suivant la "
            "signature ; le solde est versé %(balance)s."
        )
        % {
            "advance": number_format(terms.advance_percent, use_l10n=True),
            "days": terms.advance_days,
            "balance": terms.balance_condition[:1].lower() + terms.balance_condition[1:],
        },
        "obligations": _(
            "Le bénéficiaire remet un bilan intermédiaire et un bilan final d'activité, renseigne "
            "les indicateurs de suivi chaque trimestre, participe aux points d'étape organisés "
            "avec le Département et la DDETS, et mentionne le soutien du Département de l'Isère "
            "dans sa communication."
        ),
    }


def _schedule(convention: Convention, terms: FundingTerms) -> None:
    """The default payment schedule and reports of a new agreement."""
    advance = (convention.amount * terms.advance_percent / 100).quantize(Decimal("0.01"))
    year = convention.year
    if advance > 0:
        Payment.objects.create(
            convention=convention,
            position=1,
            label=_("Avance à la signature"),
            due_on=convention.period_start + dt.timedelta(days=terms.advance_days),
            amount=advance,
            condition=_("Signature de la convention"),
        )
    if convention.amount - advance > 0:
        Payment.objects.create(
            convention=convention,
            position=2,
            label=_("Solde"),
            due_on=dt.date(year + 1, 3, 31),
            amount=convention.amount - advance,
            condition=terms.balance_condition,
        )
    Report.objects.create(
        convention=convention, kind=ReportKind.INTERMEDIATE, due_on=dt.date(year, 7, 15)
    )
    Report.objects.create(
        convention=convention, kind=ReportKind.FINAL, due_on=dt.date(year + 1, 1, 31)
    )


def create_convention(decision: Decision, *, by: User, year: int | None = None) -> Convention:
    """The agreement of a selected dossier for one lot, in draft, with its schedule."""
    if not can_manage(by):
        raise PermissionDenied
    if decision.outcome != DecisionOutcome.SELECTED:
        raise DomainError(_("Une convention se prépare pour un dossier retenu."))
    candidature, lot = decision.candidature, decision.lot
    call, organisation = candidature.call, candidature.organisation
    year = year or timezone.localdate().year
    if Convention.objects.filter(candidature=candidature, lot=lot, year=year).exists():
        raise DomainError(_("Une convention existe déjà pour ce dossier, ce lot et cette année."))
    terms = funding_terms(call)
    with transaction.atomic():
        convention = Convention.objects.create(
            candidature=candidature,
            lot=lot,
            organisation=organisation,
            call=call,
            number=_next_number(call, year),
            year=year,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            amount=decision.amount_granted,
            fte=decision.fte_granted,
            beneficiary_name=organisation.name,
            beneficiary_siret=organisation.siret,
            representative_name=organisation.legal_representative_name,
            representative_role=organisation.legal_representative_role,
            created_by=by,
            **_default_texts(call, lot, terms),
        )
        _schedule(convention, terms)
    return convention


def renew_convention(convention: Convention, *, by: User) -> Convention:
    """Next year's agreement (Pacte Local des Solidarités): a linked copy, in draft."""
    if not can_manage(by):
        raise PermissionDenied
    if hasattr(convention, "renewal"):
        raise DomainError(_("Cette convention a déjà été reconduite."))
    if convention.status == ConventionStatus.TERMINATED:
        raise DomainError(_("Une convention résiliée ne se reconduit pas."))
    year = convention.year + 1
    terms = funding_terms(convention.call)
    with transaction.atomic():
        renewal = Convention.objects.create(
            candidature=convention.candidature,
            lot=convention.lot,
            organisation=convention.organisation,
            call=convention.call,
            number=_next_number(convention.call, year),
            year=year,
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            object=convention.object,
            amount=convention.amount,
            fte=convention.fte,
            payment_terms=convention.payment_terms,
            obligations=convention.obligations,
            beneficiary_name=convention.organisation.name,
            beneficiary_siret=convention.organisation.siret,
            representative_name=convention.organisation.legal_representative_name,
            representative_role=convention.organisation.legal_representative_role,
            renews=convention,
            created_by=by,
        )
        _schedule(renewal, terms)
    return renewal


# --- Status moves -------------------------------------------------------------------------------


def transition_convention(convention, action, *, by, note="", updates=None, check=None):
    if not can_manage(by):
        raise PermissionDenied

    return convention_workflow.apply(
        convention, action, by=by, note=note, updates=updates, check=check
    )


def send_for_signature(convention, *, by, note=""):
    return transition_convention(convention, ConventionAction.SEND, by=by, note=note)


def back_to_draft(convention, *, by, note=""):
    return transition_convention(convention, ConventionAction.BACK_TO_DRAFT, by=by, note=note)


def record_signature(convention: Convention, *, by: User, signed_on: dt.date, uploaded):
    """The signed agreement comes back as a PDF, checked like every upload."""
    if signed_on > timezone.localdate():
        raise DomainError(_("La date de signature ne peut pas être dans le futur."))
    if convention.status != ConventionStatus.SENT:
        # Checked before the file is stored, so that a refusal leaves nothing behind.
        raise DomainError(_("La convention doit d'abord être envoyée pour signature."))
    try:
        check_upload(uploaded, allowed_formats=["pdf"], max_bytes=SCAN_MAX_BYTES)
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None

    def check(row):
        if row.status != ConventionStatus.SENT:
            raise DomainError(_("La convention doit d'abord être envoyée pour signature."))

    name = clean_filename(uploaded.name or "convention.pdf")
    with transaction.atomic():
        convention.signed_scan.save(name, uploaded, save=False)
        return transition_convention(
            convention,
            ConventionAction.SIGN,
            by=by,
            updates={
                "signed_on": signed_on,
                "signed_scan": convention.signed_scan.name,
                "signed_scan_name": name,
            },
            check=check,
        )


def start_convention(convention, *, by, note=""):
    return transition_convention(convention, ConventionAction.START, by=by, note=note)


def settle_convention(convention: Convention, *, by, note=""):
    def check(row):
        if row.payments.exclude(status=PaymentStatus.PAID).exists():
            raise DomainError(
                _(
                    "Des versements ne sont pas encore versés : la convention ne peut pas être soldée."
                )
            )
        if row.reports.filter(kind=ReportKind.FINAL, accepted_at__isnull=True).exists():
            raise DomainError(
                _("Le bilan final doit être reçu et validé pour solder la convention.")
            )

    return transition_convention(convention, ConventionAction.SETTLE, by=by, note=note, check=check)


def terminate_convention(convention, *, by, reason: str):
    if not reason.strip():
        raise DomainError(_("Indiquez le motif de la résiliation."))
    return transition_convention(
        convention,
        ConventionAction.TERMINATE,
        by=by,
        note=reason.strip(),
        updates={"termination_reason": reason.strip()},
    )


# --- Amendments and payments --------------------------------------------------------------------


def _paid_total(convention) -> Decimal:
    return convention.payments.filter(status=PaymentStatus.PAID).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal(0)


def _ceiling_problem(convention: Convention, *, scheduled: Decimal, amount: Decimal) -> str | None:
    if scheduled > amount:
        return _(
            "Les versements (%(scheduled)s) dépasseraient le montant de la convention (%(amount)s)."
        ) % {"scheduled": _euros(scheduled), "amount": _euros(amount)}
    return None


def add_amendment(
    convention: Convention,
    *,
    by: User,
    signed_on,
    changes: str,
    amount_after: Decimal,
    period_end_after: dt.date,
) -> Amendment:
    if not can_manage(by):
        raise PermissionDenied
    if convention.status not in (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS):
        raise DomainError(_("Un avenant modifie une convention signée, en cours d'exécution."))
    if not changes.strip():
        raise DomainError(_("Décrivez ce que l'avenant modifie."))
    with transaction.atomic():
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        scheduled = row.payments.aggregate(t=Sum("amount"))["t"] or Decimal(0)
        if problem := _ceiling_problem(row, scheduled=scheduled, amount=amount_after):
            raise DomainError(problem + " " + _("Réduisez d'abord l'échéancier."))
        if period_end_after < row.period_start:
            raise DomainError(_("La nouvelle fin précède le début de la convention."))
        number = (row.amendments.aggregate(n=Max("number"))["n"] or 0) + 1
        amendment = Amendment.objects.create(
            convention=row,
            number=number,
            signed_on=signed_on,
            changes=changes.strip(),
            amount_before=row.amount,
            amount_after=amount_after,
            period_end_before=row.period_end,
            period_end_after=period_end_after,
            created_by=by,
        )
        row.amount, row.period_end = amount_after, period_end_after
        row.save(update_fields=["amount", "period_end"])
    convention.amount, convention.period_end = amount_after, period_end_after
    return amendment


def save_payment(
    convention: Convention,
    *,
    by: User,
    payment: Payment | None = None,
    label: str,
    due_on: dt.date,
    amount: Decimal,
    condition: str = "",
) -> Payment:
    """Add or change a planned instalment; the schedule never exceeds the amount."""
    if not can_manage(by):
        raise PermissionDenied
    if convention.status in (ConventionStatus.SETTLED, ConventionStatus.TERMINATED):
        raise DomainError(_("L'échéancier d'une convention soldée ou résiliée ne change plus."))
    if payment is not None and payment.status != PaymentStatus.PLANNED:
        raise DomainError(_("Un versement déjà demandé ne se modifie plus."))
    with transaction.atomic():
        # The agreement's row is the lock: two instalments added at once are counted together.
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        others = row.payments.exclude(pk=payment.pk if payment else None).aggregate(
            t=Sum("amount")
        )["t"] or Decimal(0)
        if problem := _ceiling_problem(row, scheduled=others + amount, amount=row.amount):
            raise DomainError(problem)
        if payment is None:
            position = (row.payments.aggregate(n=Max("position"))["n"] or 0) + 1
            payment = Payment(convention=row, position=position)
        payment.label, payment.due_on, payment.amount, payment.condition = (
            label,
            due_on,
            amount,
            condition,
        )
        payment.save()
    return payment


def delete_payment(payment: Payment, *, by: User) -> None:
    if not can_manage(by):
        raise PermissionDenied
    if payment.status != PaymentStatus.PLANNED:
        raise DomainError(_("Un versement déjà demandé ne se supprime plus."))
    payment.delete()


DATE_FIELD = {
    PaymentAction.REQUEST: "requested_on",
    PaymentAction.ORDER: "ordered_on",
    PaymentAction.PAY: "paid_on",
}


def move_payment(
    payment: Payment, action: str, *, by: User, on: dt.date, reference: str = ""
) -> Payment:
    """Planned → requested → ordered (mandaté, with its accounting reference) → paid."""
    if not can_manage(by):
        raise PermissionDenied
    if on > timezone.localdate():
        raise DomainError(_("Cette date ne peut pas être dans le futur."))
    if action == PaymentAction.ORDER and not reference.strip():
        raise DomainError(_("Indiquez la référence comptable du mandat."))

    def check(row):
        if row.convention.status not in (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS):
            raise DomainError(_("Les versements suivent la signature de la convention."))

    updates = {DATE_FIELD[action]: on}
    if action == PaymentAction.ORDER:
        updates["accounting_reference"] = reference.strip()
    return payment_workflow.apply(payment, action, by=by, updates=updates, check=check)


# --- Reviews, reports and indicators ------------------------------------------------------------


def schedule_review(
    convention: Convention, *, by: User, scheduled_at, place: str, participants: str
) -> ProgressReview:
    if not can_manage(by):
        raise PermissionDenied
    return ProgressReview.objects.create(
        convention=convention,
        scheduled_at=scheduled_at,
        place=place.strip(),
        participants=participants.strip(),
        created_by=by,
    )


def record_review(
    review: ProgressReview, *, by: User, minutes: str, adjustments: str
) -> ProgressReview:
    if not can_manage(by):
        raise PermissionDenied
    if not minutes.strip():
        raise DomainError(_("Le compte rendu est vide."))
    review.minutes, review.adjustments, review.held = minutes.strip(), adjustments.strip(), True
    review.save(update_fields=["minutes", "adjustments", "held"])
    return review


def add_remark(review: ProgressReview, *, by: User, text: str) -> ReviewRemark:
    """The DDETS reads the reviews and adds remarks: nothing else."""
    if not (core_rules.is_ddets_reader(by) or can_manage(by)):
        raise PermissionDenied
    if not text.strip():
        raise DomainError(_("Écrivez votre remarque."))
    return ReviewRemark.objects.create(review=review, author=by, text=text.strip())


def submit_report(report: Report, *, by: User, uploaded) -> Report:
    """The organisation sends its report (PDF, DOCX or ODT), until it is validated."""
    if not dossier_rules.is_member(by, report.convention.organisation):
        raise PermissionDenied
    if report.accepted_at is not None:
        raise DomainError(_("Ce bilan est déjà validé par le Département."))
    try:
        check_upload(uploaded, allowed_formats=["pdf", "docx", "odt"], max_bytes=REPORT_MAX_BYTES)
    except ValidationError as error:
        raise DomainError(error.messages[0]) from None
    name = clean_filename(uploaded.name or "bilan.pdf")
    sha256 = getattr(uploaded, "sha256", None) or sha256_of(uploaded)
    with transaction.atomic():
        if report.file:
            old_storage, old_name = report.file.storage, report.file.name
            transaction.on_commit(lambda: old_storage.delete(old_name))
        report.file.save(name, uploaded, save=False)
        report.file_name, report.sha256 = name, sha256
        report.submitted_at, report.submitted_by = timezone.now(), by
        report.save()
    return report


def accept_report(report: Report, *, by: User) -> Report:
    if not can_manage(by):
        raise PermissionDenied
    if not report.file:
        raise DomainError(_("Le bilan n'a pas encore été remis."))
    report.accepted_at = timezone.now()
    report.save(update_fields=["accepted_at"])
    return report


def report_indicator(
    convention: Convention,
    indicator: Indicator,
    *,
    by: User,
    period: int,
    value: Decimal,
    comment: str = "",
) -> IndicatorValue:
    if not (dossier_rules.is_member(by, convention.organisation) or can_manage(by)):
        raise PermissionDenied
    if indicator.call_id != convention.call_id:
        raise PermissionDenied
    if convention.status not in (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS):
        raise DomainError(_("Les indicateurs se renseignent pendant l'exécution de la convention."))
    if value < 0:
        raise DomainError(_("Une valeur d'indicateur ne peut pas être négative."))
    entry, _created = IndicatorValue.objects.update_or_create(
        convention=convention,
        indicator=indicator,
        period=period,
        defaults={
            "value": value,
            "comment": comment.strip(),
            "entered_by": by,
            "entered_at": timezone.now(),
        },
    )
    return entry
