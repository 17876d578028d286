from aap.models.calls import (
    ORGANISATION_KIND_SHORT,
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
from aap.models.form import (
    KINDS_WITH_CHOICES,
    KINDS_WITH_LENGTH,
    Question,
    QuestionKind,
    QuestionMeaning,
)
from aap.models.mail import EmailStatus, OutgoingEmail
from aap.models.questions import CallQuestion
from aap.models.reminders import CalendarFeed, Reminder, ReminderSettings
from aap.models.users import User

__all__ = [
    "KINDS_WITH_CHOICES",
    "KINDS_WITH_LENGTH",
    "ORGANISATION_KIND_SHORT",
    "CalendarFeed",
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
    "Question",
    "QuestionKind",
    "QuestionMeaning",
    "Reminder",
    "ReminderSettings",
    "RequiredDocument",
    "SubCriterion",
    "User",
]
