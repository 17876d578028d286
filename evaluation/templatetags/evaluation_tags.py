from django import template
from django.utils.formats import get_format

from evaluation.exports import round_score
from evaluation.letters import selected_organisations

register = template.Library()


@register.inclusion_tag("evaluation/partials/_selected.html")
def selected_for(call):
    """The organisations selected, on the public page of a decided call."""
    return {"decisions": list(selected_organisations(call))}


@register.filter
def score(value):
    """A score with two decimals as ``floatformat:2`` writes it ("58,33"), "" for None.

    A ranking shows ten scores per dossier for a thousand dossiers: ``floatformat``
    costs about 15 µs a call, this a tenth of that."""
    if value is None or value == "":
        return ""
    return str(round_score(value)).replace(".", get_format("DECIMAL_SEPARATOR"))
