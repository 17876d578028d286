from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models.calls import Call


class CallQuestionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)

    def pending(self):
        return self.filter(published_at__isnull=True)


class CallQuestion(models.Model):
    """A candidate's question about a call and the Département's answer.

    Answers are published on the call page for every candidate (equal treatment),
    under the wording staff give the question, never with the asker's identity.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="call_questions",
        verbose_name=_("posée par"),
    )
    question = models.TextField(_("question"), max_length=3000)
    asked_at = models.DateTimeField(_("posée le"), default=timezone.now)
    public_question = models.TextField(
        _("question publiée"),
        blank=True,
        help_text=_("Reformulez-la si elle permet d'identifier la structure qui l'a posée."),
    )
    answer = models.TextField(_("réponse"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("répondue par"),
    )
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)

    objects = CallQuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("question sur un appel")
        verbose_name_plural = _("questions sur les appels")
        ordering = ["call_id", "-asked_at"]

    def __str__(self):
        return self.question[:80]

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
