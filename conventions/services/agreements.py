"""Agreements: prepared in draft from a selected decision (a period that starts after
the decision), edited while a draft, sent for signature (the PDF rendered once and
stored with its SHA-256: from then on the content is frozen), signed with the scan, run,
settled, terminated, renewed."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from conventions import articles, emails, queries
from conventions.articles import ARTICLE_FIELDS
from conventions.dates import add_months, default_end, default_start
from conventions.models import Convention, FundingTerms, Payment, Report
from conventions.pdf import convention_pdf, pdf_filename
from conventions.services.common import (
    SCAN_MAX_BYTES,
    can_manage,
    convention_workflow,
    euros,
    store_frozen_pdf,
)
from conventions.states import (
    ConventionAction,
    ConventionStatus,
    PaymentCondition,
    PaymentStatus,
    ReportKind,
    ReportStatus,
)
from core.exceptions import DomainError
from core.models import User
from core.uploads import check_upload, clean_filename
from evaluation.models import Decision
from evaluation.states import DecisionOutcome

# --- Creation and renewal ----------------------------------------------------------------------


def funding_terms(call) -> FundingTerms:
    """The call's terms, or unsaved defaults (a page that only reads writes nothing)."""
    return FundingTerms.objects.filter(call=call).first() or FundingTerms(call=call)


def decision_date(decision: Decision) -> dt.date:
    return timezone.localdate(decision.decided_at)


def default_period(decision: Decision) -> tuple[dt.date, dt.date]:
    start = default_start(decision_date(decision))
    return start, default_end(start)


def _next_number(call, year: int) -> str:
    prefix = f"CONV-{year}-{call.reference.removeprefix('AAP-')}-"
    taken = Convention.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    sequence = max((int(number.rsplit("-", 1)[1]) for number in taken), default=0) + 1
    return f"{prefix}{sequence:03d}"


def _default_texts(call, lot, terms: FundingTerms) -> dict:
    """Every article of the call's template, the call's data in place (its figures stay
    placeholders, replaced at each display from the agreement's own)."""
    balance = PaymentCondition(terms.balance_condition).label
    call_data = {
        "appel": call.title,
        "lot": lot.name,
        "actions": "\n".join(f"- {action.label}" for action in call.expected_actions.all()),
        "avance": f"{floatformat(terms.advance_percent, '-2')}\xa0%",
        "delai_avance": terms.advance_days,
        "condition_solde": balance[:1].lower() + balance[1:],
    }
    return {name: articles.fill(getattr(terms, name), call_data) for name in ARTICLE_FIELDS}


def _schedule(convention: Convention, terms: FundingTerms) -> None:
    """The default payment schedule and reports of a draft, from its period: the advance
    after the start, the reports at mid-term and a month after the end, the balance three
    months after the end, on the call's condition."""
    start, end = convention.period_start, convention.period_end
    advance = (convention.amount * terms.advance_percent / 100).quantize(Decimal("0.01"))
    if advance > 0:
        Payment.objects.create(
            convention=convention,
            position=1,
            label=_("Avance à la signature"),
            due_on=start + dt.timedelta(days=terms.advance_days),
            amount=advance,
            condition=PaymentCondition.SIGNATURE,
        )
    if convention.amount - advance > 0:
        Payment.objects.create(
            convention=convention,
            position=2,
            label=_("Solde"),
            due_on=add_months(end, 3),
            amount=convention.amount - advance,
            condition=terms.balance_condition,
        )
    middle = start + (end - start) / 2
    Report.objects.create(
        convention=convention, kind=ReportKind.INTERMEDIATE, due_on=middle + dt.timedelta(days=14)
    )
    for kind in (ReportKind.FINAL, ReportKind.FINANCIAL):
        Report.objects.create(convention=convention, kind=kind, due_on=add_months(end, 1))


def _refuse_period(start: dt.date, end: dt.date, decided_on: dt.date) -> None:
    if start < decided_on:
        raise DomainError(
            _(
                "La convention ne peut pas commencer le %(start)s, avant la décision du "
                "%(decision)s."
            )
            % {
                "start": date_format(start, "DATE_FORMAT"),
                "decision": date_format(decided_on, "DATE_FORMAT"),
            }
        )
    if end < start:
        raise DomainError(_("La fin de la convention précède son début."))


def create_convention(
    decision: Decision,
    *,
    by: User,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> Convention:
    """The agreement of a selected dossier for one lot, in draft, with its schedule. The
    period starts by default the first day of the month after the decision and lasts
    twelve months; it never starts before the decision."""
    if not can_manage(by):
        raise PermissionDenied
    if decision.outcome != DecisionOutcome.SELECTED:
        raise DomainError(_("Une convention se prépare pour un dossier retenu."))
    decided_on = decision_date(decision)
    period_start = period_start or default_start(decided_on)
    period_end = period_end or default_end(period_start)
    _refuse_period(period_start, period_end, decided_on)
    candidature, lot = decision.candidature, decision.lot
    call, organisation = candidature.call, candidature.organisation
    year = period_start.year
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
            decision_date=decided_on,
            period_start=period_start,
            period_end=period_end,
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
    """The next period's agreement (Pacte Local des Solidarités): a linked copy, in
    draft, from the day after the end of this one."""
    if not can_manage(by):
        raise PermissionDenied
    if hasattr(convention, "renewal"):
        raise DomainError(_("Cette convention a déjà été reconduite."))
    if convention.status == ConventionStatus.TERMINATED:
        raise DomainError(_("Une convention résiliée ne se reconduit pas."))
    start = convention.period_end + dt.timedelta(days=1)
    year = start.year
    terms = funding_terms(convention.call)
    with transaction.atomic():
        renewal = Convention.objects.create(
            candidature=convention.candidature,
            lot=convention.lot,
            organisation=convention.organisation,
            call=convention.call,
            number=_next_number(convention.call, year),
            year=year,
            decision_date=convention.decision_date,
            period_start=start,
            period_end=default_end(start),
            amount=convention.amount,
            fte=convention.fte,
            subsidy_share=convention.subsidy_share,
            **{name: getattr(convention, name) for name in ARTICLE_FIELDS},
            beneficiary_name=convention.organisation.name,
            beneficiary_siret=convention.organisation.siret,
            representative_name=convention.organisation.legal_representative_name,
            representative_role=convention.organisation.legal_representative_role,
            renews=convention,
            created_by=by,
        )
        _schedule(renewal, terms)
    return renewal


EDITABLE_TEXTS = (*ARTICLE_FIELDS, "subsidy_share")


def update_draft(
    convention: Convention,
    *,
    by: User,
    period_start: dt.date,
    period_end: dt.date,
    **texts,
) -> Convention:
    """The draft's period and texts (every article, ``conventions.articles``), as staff
    edit them before sending. A new period derives the schedule and the reports again
    from it."""
    if not can_manage(by):
        raise PermissionDenied
    if set(texts) - set(EDITABLE_TEXTS):
        raise ValueError(sorted(set(texts) - set(EDITABLE_TEXTS)))
    for name in set(texts) & set(ARTICLE_FIELDS):
        if not (texts[name] or "").strip():
            raise DomainError(
                _("%(article)s : le texte est vide.") % {"article": articles.TITLES[name]}
            )
        if problem := articles.placeholder_problem(name, texts[name], template=False):
            raise DomainError(problem)
    with transaction.atomic():
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        if row.status != ConventionStatus.DRAFT:
            raise DomainError(
                _(
                    "La convention a été envoyée pour signature : son texte ne change plus. "
                    "Revenez au brouillon pour la corriger avant la signature."
                )
            )
        _refuse_period(period_start, period_end, row.decision_date)
        moved = (period_start, period_end) != (row.period_start, row.period_end)
        if moved and period_start.year != row.year:
            taken = Convention.objects.filter(
                candidature=row.candidature_id, lot=row.lot_id, year=period_start.year
            ).exclude(pk=row.pk)
            if taken.exists():
                raise DomainError(
                    _("Une convention existe déjà pour ce dossier, ce lot et cette année.")
                )
        for name, value in texts.items():
            setattr(row, name, value.strip() if isinstance(value, str) else value)
        row.period_start, row.period_end, row.year = period_start, period_end, period_start.year
        row.save()
        if moved:
            row.payments.all().delete()
            row.reports.all().delete()
            _schedule(row, funding_terms(row.call))
    for name in ("period_start", "period_end", "year", *texts):
        setattr(convention, name, getattr(row, name))
    return row


# --- Status moves -------------------------------------------------------------------------------


def transition_convention(convention, action, *, by, note="", updates=None, check=None):
    if not can_manage(by):
        raise PermissionDenied
    return convention_workflow.apply(
        convention, action, by=by, note=note, updates=updates, check=check
    )


def _scheduled_problem(row: Convention) -> str | None:
    scheduled = row.payments.aggregate(t=Sum("amount"))["t"] or Decimal(0)
    if scheduled != row.amount:
        return _(
            "L'échéancier (%(scheduled)s) doit couvrir exactement le montant de la convention "
            "(%(amount)s) avant l'envoi."
        ) % {"scheduled": euros(scheduled), "amount": euros(row.amount)}
    return None


def send_for_signature(convention: Convention, *, by: User, note: str = "") -> Convention:
    """Freeze the agreement: its PDF is rendered once, stored with its SHA-256, and that
    file is what the organisation downloads and signs. The organisation is told."""
    if not can_manage(by):
        raise PermissionDenied
    with transaction.atomic():
        row = Convention.objects.select_for_update().get(pk=convention.pk)
        convention_workflow.target(row.status, ConventionAction.SEND)
        if problem := _scheduled_problem(row):
            raise DomainError(problem)
        now = timezone.now()
        page = queries.convention_page(Convention.objects.filter(pk=row.pk)).get()
        content = convention_pdf(page, sent_at=now)
        sha256 = store_frozen_pdf(row.document, pdf_filename(row), content)
        stored = row.document.name
        try:
            moved = transition_convention(
                convention,
                ConventionAction.SEND,
                by=by,
                note=note,
                updates={"document": stored, "document_sha256": sha256, "sent_at": now},
            )
        except Exception:
            row.document.storage.delete(stored)
            raise
        emails.agreement_sent(moved)
    return moved


def back_to_draft(convention: Convention, *, by: User, note: str = "") -> Convention:
    """Recall an agreement not yet signed: the version sent is withdrawn (its SHA-256 is
    kept in the history) and a new one will be sent."""
    if not can_manage(by):
        raise PermissionDenied
    sent = Convention.objects.values_list("sent_at", "document_sha256").get(pk=convention.pk)
    withdrawn = (
        _("Version envoyée le %(date)s retirée (SHA-256 %(sha)s).")
        % {"date": date_format(timezone.localtime(sent[0]), "DATETIME_FORMAT"), "sha": sent[1]}
        if sent[0]
        else ""
    )
    return transition_convention(
        convention,
        ConventionAction.BACK_TO_DRAFT,
        by=by,
        note=" ".join(part for part in (note.strip(), withdrawn) if part),
        updates={"document": "", "document_sha256": "", "sent_at": None},
    )


def record_signature(convention: Convention, *, by: User, signed_on: dt.date, uploaded):
    """The signed agreement comes back as a PDF, checked like every upload."""
    if not can_manage(by):
        raise PermissionDenied
    if signed_on > timezone.localdate():
        raise DomainError(_("La date de signature ne peut pas être dans le futur."))
    if convention.status != ConventionStatus.SENT:
        # Checked before the file is stored, so that a refusal leaves nothing behind.
        raise DomainError(_("La convention doit d'abord être envoyée pour signature."))
    if convention.sent_at and signed_on < timezone.localdate(convention.sent_at):
        raise DomainError(_("La date de signature précède l'envoi de la convention."))
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
        signed = transition_convention(
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
        emails.agreement_signed(signed)
    return signed


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
        if (
            row.reports.filter(kind__in=[ReportKind.FINAL, ReportKind.FINANCIAL])
            .exclude(status=ReportStatus.ACCEPTED)
            .exists()
        ):
            raise DomainError(
                _(
                    "Le bilan final et le compte rendu financier doivent être reçus et validés "
                    "pour solder la convention."
                )
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
