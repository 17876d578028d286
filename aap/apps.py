from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AapConfig(AppConfig):
    name = "aap"
    verbose_name = _("Appels à projets")
