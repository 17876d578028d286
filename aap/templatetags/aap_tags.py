"""Template helpers: text typed in the back-office, French durations, badges."""

import datetime as dt
from itertools import groupby

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aap import placeholders

register = template.Library()

_BULLETS = ("- ", "• ", "* ")


@register.filter
def rich_text(value: str | None):
    """Paragraphs separated by blank lines; lines starting with "- " become a list.

    Everything is escaped first: text typed by staff or candidates never becomes markup.
    """
    if not value:
        return ""
    html = []
    for block in value.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        # Consecutive lines of the same kind (bullet or not) form one list or paragraph.
        for is_item, group in groupby(lines, key=lambda line: line.startswith(_BULLETS)):
            group = list(group)
            if is_item:
                items = "".join(f"<li>{escape(line[2:].strip())}</li>" for line in group)
                html.append(f"<ul>{items}</ul>")
            else:
                html.append("<p>" + "<br>".join(escape(line) for line in group) + "</p>")
    return mark_safe("\n".join(html))


@register.filter
def with_dates(value: str | None, call) -> str:
    """A text of ``call`` with its date placeholders ({{ date_limite }}…) written out."""
    return placeholders.render(value, call)


@register.simple_tag
def date_placeholders_help() -> str:
    return str(placeholders.HELP)


def remaining_text(deadline: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "12 jours et 3 heures", "5 heures et 20 minutes", "moins d'une minute"."""
    now = now or timezone.now()
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("délai écoulé")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d jour", "%(n)d jours", days) % {"n": days})
    if hours and days < 7:
        parts.append(ngettext("%(n)d heure", "%(n)d heures", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    if not parts:
        return _("moins d'une minute")
    return _(" et ").join(parts)


@register.simple_tag
def time_left(deadline):
    return remaining_text(deadline)


@register.filter
def fte(value):
    """0.50 → "0,5"."""
    if value is None:
        return ""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return text.replace(".", ",")


PHASE_BADGES = {
    "open": ("text-bg-success", _("Ouvert")),
    "upcoming": ("text-bg-info", _("À venir")),
    "closed": ("text-bg-secondary", _("Clos")),
    "draft": ("text-bg-warning", _("Brouillon")),
    "abandoned": ("text-bg-dark", _("Classé sans suite")),
}


@register.inclusion_tag("aap/partials/_phase_badge.html")
def phase_badge(call):
    css, label = PHASE_BADGES[call.phase()]
    return {"css": css, "label": label}
