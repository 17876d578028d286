from django import template

from evaluation.letters import selected_organisations

register = template.Library()


@register.inclusion_tag("evaluation/partials/_selected.html")
def selected_for(call):
    """The organisations selected, on the public page of a decided call."""
    return {"decisions": list(selected_organisations(call))}
