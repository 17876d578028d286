"""What the calls' rules refuse, beyond the kernel's ``DomainError``."""

from core.exceptions import DomainError


class ScoringGridLocked(DomainError):
    """A weight or a sub-criterion changed after the first evaluation was submitted."""


class StructureLocked(DomainError):
    """A lot, criterion, document, expected action or form question changed after its call
    left the draft status."""


class DeadlineBroughtForward(DomainError):
    """The deadline of a published call was brought forward."""
