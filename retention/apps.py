from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Conservation des données")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from core.elimination import register_visa_check
        from retention import warnings
        from retention.queries import dossier_has_visa

        register_visa_check(dossier_has_visa)
        user_logged_in.connect(warnings.cancel_on_login, dispatch_uid="retention-cancel-warning")
