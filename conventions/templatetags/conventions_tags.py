"""Template helpers of agreements: amounts in euros as the Département writes them, and
the articles' texts with their figures in place."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from conventions.articles import filled

register = template.Library()


@register.filter
def euros(value):
    """Decimal("24500") → "24 500,00 €" (no-break spaces)."""
    if value is None or value == "":
        return ""
    text = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text}\xa0€"


@register.filter
def article(convention, name):
    """The text of the article ``name`` of ``convention``, its figures in place: plain
    text, to be escaped (``rich_text``)."""
    return filled(convention, name)
