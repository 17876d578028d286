from aap.models.calls import (
    Call,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    OrganisationKind,
    PaperCopyRule,
    Programme,
    RequiredDocument,
    SubCriterion,
)
from aap.models.mail import EmailStatus, OutgoingEmail
from aap.models.questions import CallQuestion
from aap.models.users import User

__all__ = [
    "Call",
    "CallQuestion",
    "CallStatusChange",
    "Criterion",
    "EmailStatus",
    "ExpectedAction",
    "Lot",
    "OrganisationKind",
    "OutgoingEmail",
    "PaperCopyRule",
    "Programme",
    "RequiredDocument",
    "SubCriterion",
    "User",
]
