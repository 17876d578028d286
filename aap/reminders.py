"""What the calls add to the instructeurs' daily digest (``core.reminders``)."""

from django.utils.translation import gettext_lazy as _

from aap.models import CallQuestion


def digest_items(now) -> list[tuple[int, str]]:
    """Questions of candidates waiting for an answer."""
    return [
        (CallQuestion.objects.pending().count(), _("question(s) de candidats sans réponse")),
    ]
