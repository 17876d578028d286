"""A refusal of the domain (``DomainError``), shown to the user as messages."""

from django.contrib import messages

from core.exceptions import DomainError


def error_messages(request, error: DomainError) -> None:
    """The error's French message, then each of its problems, as error messages."""
    messages.error(request, error.message)
    for problem in error.problems:
        messages.error(request, problem)
