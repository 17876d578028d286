from candidatures.models.announcements import (
    Announcement,
    AnnouncementFrozen,
    AnnouncementRecipient,
)
from candidatures.models.dossiers import (
    Answer,
    Candidature,
    CandidatureLocked,
    CandidatureStatusChange,
    Document,
)
from candidatures.models.followup import (
    Identical,
    Message,
    PaperCopy,
    PaperCopyRevision,
    PaperMethod,
    PieceRequest,
    PieceRequestRevision,
    Reading,
    Receipt,
)
from candidatures.models.organisations import (
    Invitation,
    Membership,
    Organisation,
    Territory,
    validate_siret,
)

__all__ = [
    "Announcement",
    "AnnouncementFrozen",
    "AnnouncementRecipient",
    "Answer",
    "Candidature",
    "CandidatureLocked",
    "CandidatureStatusChange",
    "Document",
    "Identical",
    "Invitation",
    "Membership",
    "Message",
    "Organisation",
    "PaperCopy",
    "PaperCopyRevision",
    "PaperMethod",
    "PieceRequest",
    "PieceRequestRevision",
    "Reading",
    "Receipt",
    "Territory",
    "validate_siret",
]
