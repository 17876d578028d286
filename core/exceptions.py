class DomainError(Exception):
    """A business rule refused an action. ``message`` is French and shown to the user."""

    def __init__(self, message, *, problems=()):
        super().__init__(message)
        self.message = str(message)
        self.problems = [str(problem) for problem in problems]

    def __str__(self):
        return self.message


class TransitionNotAllowed(DomainError):
    """The move is not in the state table for the object's current status."""
