"""« Voir comme un candidat »: a call's funding-request form as a candidate sees it,
for the instructeurs who build it (drafts included). Nothing is saved: the form is
shown with no answer and its fields are disabled."""

from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from aap import queries as call_queries
from aap import rules as call_rules
from candidatures.answers import AnswersForm
from core.permissions import RuleMixin


class FormPreviewView(RuleMixin, TemplateView):
    rule = staticmethod(call_rules.can_manage_call)
    template_name = "candidatures/form_preview.html"

    def get_context_data(self, **kwargs):
        call = get_object_or_404(
            call_queries.calls_visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        form = AnswersForm(
            questions=call.form_questions.order_by("position", "pk"),
            lots=list(call.lots.all()),
            answers={},
        )
        return super().get_context_data(call=call, form=form, **kwargs)
