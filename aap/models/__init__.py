from aap.models.calls import (
    ORGANISATION_KIND_SHORT,
    Call,
    CallStatusChange,
    Criterion,
    ExpectedAction,
    Lot,
    OrganisationKind,
    PaperCopyRule,
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
from aap.models.programmes import Programme
from aap.models.questions import CallQuestion
from aap.models.reminders import ReminderSetting

__all__ = [
    "KINDS_WITH_CHOICES",
    "KINDS_WITH_LENGTH",
    "ORGANISATION_KIND_SHORT",
    "Call",
    "CallQuestion",
    "CallStatusChange",
    "Criterion",
    "ExpectedAction",
    "Lot",
    "OrganisationKind",
    "PaperCopyRule",
    "Programme",
    "Question",
    "QuestionKind",
    "QuestionMeaning",
    "ReminderSetting",
    "RequiredDocument",
    "SubCriterion",
]
