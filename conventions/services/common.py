"""What the services of agreements share: the workflows, the rule of who manages, money
in French, and storing a PDF rendered once with its SHA-256."""

import hashlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils.formats import number_format

from conventions.models import (
    AmendmentStatusChange,
    ConventionStatusChange,
    PaymentStatusChange,
    ReportStatusChange,
)
from conventions.states import (
    AMENDMENT_TRANSITIONS,
    CONVENTION_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REPORT_TRANSITIONS,
    AmendmentAction,
    AmendmentStatus,
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    PaymentStatus,
    ReportAction,
    ReportStatus,
)
from core import rules as core_rules
from core.workflow import Workflow

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
amendment_workflow = Workflow(
    transitions=AMENDMENT_TRANSITIONS,
    statuses=AmendmentStatus,
    actions=AmendmentAction,
    history_model=AmendmentStatusChange,
    history_field="amendment",
)
report_workflow = Workflow(
    transitions=REPORT_TRANSITIONS,
    statuses=ReportStatus,
    actions=ReportAction,
    history_model=ReportStatusChange,
    history_field="report",
)

SCAN_MAX_BYTES = 20 * 1024 * 1024
REPORT_MAX_BYTES = 30 * 1024 * 1024


def can_manage(user, obj=None) -> bool:
    return core_rules.is_instructeur(user)


def euros(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True) + " €"


def store_frozen_pdf(field, filename: str, content: bytes) -> str:
    """Store ``content`` in ``field`` (not saved) and return its SHA-256: the document as
    it left, never rendered again."""
    field.save(filename, ContentFile(content), save=False)
    return hashlib.sha256(content).hexdigest()
