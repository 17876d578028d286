"""The API's answers. Only public fields: no contact person, no signatory, no dossier."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from ninja import Schema


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


class LotOut(Schema):
    name: str
    territory: str
    fte: Decimal | None
    budget: Decimal | None


class SubCriterionOut(Schema):
    title: str


class CriterionOut(Schema):
    title: str
    description: str
    weight: Decimal | None
    subcriteria: list[SubCriterionOut]

    @staticmethod
    def resolve_subcriteria(criterion):
        return list(criterion.subcriteria.all())


class DocumentOut(Schema):
    label: str
    description: str
    mandatory: bool
    multiple: bool
    allowed_formats: list[str]
    max_size_mb: int | None
    template_url: str | None

    @staticmethod
    def resolve_template_url(document):
        if not document.template:
            return None
        # The call is the one the documents were prefetched from: no query.
        return absolute(reverse("aap:template_download", args=[document.call.slug, document.pk]))


class CalendarOut(Schema):
    opens_at: dt.datetime
    deadline: dt.datetime
    start_expected: str
    published_at: dt.datetime | None


class CallOut(Schema):
    slug: str
    reference: str
    title: str
    year: int
    programme: str | None
    authority: str
    summary: str
    status: str
    status_label: str
    url: str
    abandon_reason: str
    eligible_kinds: list[str]
    priority_kinds: list[str]
    calendar: CalendarOut
    lots: list[LotOut]
    criteria: list[CriterionOut]
    documents: list[DocumentOut]

    @staticmethod
    def resolve_programme(call):
        return call.programme.name if call.programme else None

    @staticmethod
    def resolve_status_label(call):
        return str(call.get_status_display())

    @staticmethod
    def resolve_url(call):
        return absolute(reverse("aap:call_detail", args=[call.slug]))

    @staticmethod
    def resolve_calendar(call):
        return {
            "opens_at": call.opens_at,
            "deadline": call.deadline,
            "start_expected": call.start_expected,
            "published_at": call.published_at,
        }

    @staticmethod
    def resolve_lots(call):
        return list(call.lots.all())

    @staticmethod
    def resolve_criteria(call):
        return list(call.criteria.all())

    @staticmethod
    def resolve_documents(call):
        return list(call.required_documents.all())


class LaureateOut(Schema):
    call: str  # the call's slug
    call_reference: str
    organisation: str
    siret: str
    lot: str
    amount: Decimal | None

    @staticmethod
    def resolve_call(decision):
        return decision.candidature.call.slug

    @staticmethod
    def resolve_call_reference(decision):
        return decision.candidature.call.reference

    @staticmethod
    def resolve_organisation(decision):
        return decision.candidature.organisation.name

    @staticmethod
    def resolve_siret(decision):
        return decision.candidature.organisation.siret

    @staticmethod
    def resolve_lot(decision):
        return decision.lot.name

    @staticmethod
    def resolve_amount(decision):
        return decision.amount_granted


class SubsidyOut(Schema):
    """One row of the SCDL « subventions » open data (schema 2.1.1), same names."""

    nomAttribuant: str  # the SCDL column names
    idAttribuant: str
    dateConvention: str
    referenceDecision: str
    nomBeneficiaire: str
    idBeneficiaire: str
    rnaBeneficiaire: str
    objet: str
    montant: Decimal
    nature: str
    conditionsVersement: str
    datesPeriodeVersement: str
    idRAE: str
    notificationUE: str
    pourcentageSubvention: Decimal
    dispositifAide: str


class DossierMetaOut(Schema):
    id: int
    organisation: str
    siret: str
    status: str
    lots: list[str]
    submitted_at: dt.datetime | None
    receipt_number: str | None

    @staticmethod
    def resolve_organisation(candidature):
        return candidature.organisation.name

    @staticmethod
    def resolve_siret(candidature):
        return candidature.organisation.siret

    @staticmethod
    def resolve_lots(candidature):
        return [lot.name for lot in candidature.lots.all()]

    @staticmethod
    def resolve_receipt_number(candidature):
        # Receipts are prefetched latest first.
        receipt = next(iter(candidature.receipts.all()), None)
        return receipt.number if receipt else None


class ErrorOut(Schema):
    detail: str
