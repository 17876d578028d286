from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AapConfig(AppConfig):
    name = "aap"
    verbose_name = _("Appels à projets")

    def ready(self):
        from aap import reminders, todo
        from core.reminders import register_digest_items

        register_digest_items(reminders.digest_items)
        todo.register_todo(todo.questions_to_answer)
