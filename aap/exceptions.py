"""What the calls' rules refuse, beyond the kernel's ``DomainError``."""

from core.exceptions import DomainError


class ScoringGridLocked(DomainError):
    """A weight or a sub-criterion changed after the first evaluation was submitted."""
