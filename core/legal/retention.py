"""The retention periods of personal data as the privacy page states them.

The periods are the settings' (``RETENTION_DAYS``, in days, read by the purge too); the
page speaks in years and months, as retention schedules do.
"""

from django.conf import settings
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

# Each category of ``RETENTION_DAYS``: what is kept, and from when the period runs. A
# category added to the settings without its words here fails a test, not the page.
CATEGORIES = {
    "not_selected": (
        _(
            "Dossiers non retenus, irrecevables ou jamais déposés, avec leurs pièces (CV, "
            "identité du représentant légal) et leurs évaluations"
        ),
        _(
            "à compter de la notification de la décision (pour un brouillon : de la date limite de l'appel)"
        ),
    ),
    "selected": (
        _(
            "Dossiers retenus, avec leurs pièces, leurs évaluations, leur convention, ses "
            "avenants, versements et bilans"
        ),
        _("à compter du dernier versement de la convention"),
    ),
    "inactive_account": (
        _("Comptes des utilisateurs (nom, prénom, adresse électronique, fonction, téléphone)"),
        _("à compter de la dernière connexion (ou de l'inscription)"),
    ),
    "reading_log": (
        _("Journal des consultations des dossiers par les agents de la DDETS"),
        _("à compter de chaque consultation"),
    ),
    "outbox": (
        _("Courriels envoyés par la plateforme"),
        _("à compter de leur envoi"),
    ),
}

DAYS_PER_YEAR = 365
# An average month (365.25 / 12): 180 days read « 6 mois », 30 days « 1 mois ».
DAYS_PER_MONTH = 30.4375


def duration_in_words(days: int) -> str:
    """« 5 ans », « 1 an et 6 mois », « 3 mois », « 10 jours »: whole years when the days
    are whole years of 365, otherwise months rounded, and days only under a month."""
    if days >= DAYS_PER_YEAR and days % DAYS_PER_YEAR == 0:
        years, months = days // DAYS_PER_YEAR, 0
    else:
        years, months = divmod(round(days / DAYS_PER_MONTH), 12)
        if years == 0 and months == 0:
            return ngettext("%(count)d jour", "%(count)d jours", days) % {"count": days}
    in_years = ngettext("%(count)d an", "%(count)d ans", years) % {"count": years}
    in_months = ngettext("%(count)d mois", "%(count)d mois", months) % {"count": months}
    if not months:
        return in_years
    if not years:
        return in_months
    return gettext("%(years)s et %(months)s") % {"years": in_years, "months": in_months}


def retention_periods():
    """``(category, what, period in words, from when)`` for each category of the settings,
    in the order of ``CATEGORIES``."""
    configured = settings.RETENTION_DAYS
    return [
        (key, what, duration_in_words(configured[key]), start)
        for key, (what, start) in CATEGORIES.items()
        if key in configured
    ]
