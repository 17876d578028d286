from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demonstration data, on top of every app: the 2024 call as published, copies of
    it at each stage, fictional dossiers, agreements and one account per role
    (``manage.py load_demo``). No app imports it; the tests and the bench do."""

    name = "demo"
    verbose_name = _("Démonstration")
