"""Candidates (and staff): the letters of their dossier, as they left."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views import View

from candidatures import rules as dossier_rules
from core import downloads
from core import rules as core_rules
from core.permissions import ObjectRuleMixin
from evaluation.models import NotificationLetter
from evaluation.states import LetterStatus


class LetterDownloadView(ObjectRuleMixin, View):
    """The dossier's latest letter sent (the notification, or its latest rectification)."""

    rule = staticmethod(
        lambda user, letter: (
            dossier_rules.is_dossier_member(user, letter.candidature)
            or core_rules.is_platform_staff(user)
        )
    )

    def get_queryset(self):
        user = self.request.user
        letters_ = NotificationLetter.objects.filter(status=LetterStatus.SENT).select_related(
            "candidature__organisation", "candidature__call"
        )
        if core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user):
            return letters_
        return letters_.filter(candidature__organisation__memberships__user=user)

    def get_object(self, queryset=None):
        if not hasattr(self, "_rule_object"):
            found = self.get_queryset().filter(candidature_id=self.kwargs["pk"])
            if "letter" in self.kwargs:
                self._rule_object = get_object_or_404(found, pk=self.kwargs["letter"])
            else:
                self._rule_object = found.order_by("-sent_at", "-pk").first()
                if self._rule_object is None:
                    raise Http404
        return self._rule_object

    def get(self, request, pk, letter=None):
        letter = self.get_object()
        return downloads.stored_file(letter.pdf, letter.filename)
