"""« Les dossiers retenus » as an audience of announcements (``candidatures.announcements``):
the organisations whose notified decision selected them."""

from django.utils.translation import gettext_lazy as _

from candidatures.announcements import Audience
from evaluation.letters import selected_organisations


def selected(call):
    return selected_organisations(call).order_by().values("candidature__organisation_id")


AUDIENCE = Audience(
    key="selected",
    label=_("Dossiers retenus (décisions notifiées)"),
    addressed_to=_("aux structures dont le dossier est retenu"),
    organisations=selected,
    position=30,
)
