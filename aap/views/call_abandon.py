"""« Classer sans suite »: confirm with a reason; the rules are ``aap.abandon``'s."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from aap import abandon
from aap.abandon_forms import AbandonForm
from aap.states import CALL_TRANSITIONS, CallAction
from aap.views.backoffice import StaffCallMixin
from core.exceptions import DomainError


class CallAbandonView(StaffCallMixin, DetailView):
    template_name = "aap/backoffice/call_abandon.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=AbandonForm()))

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        form = AbandonForm(request.POST)
        if form.is_valid():
            try:
                abandon.abandon_call(call, by=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                form.add_error(None, error.message)
                for problem in error.problems:
                    form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    _(
                        "L'appel à projets est classé sans suite. Les structures qui ont un "
                        "dossier en sont informées par courriel."
                    ),
                )
                return redirect("aap:backoffice_call", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        call = self.object
        allowed = (call.status, CallAction.ABANDON) in CALL_TRANSITIONS
        return super().get_context_data(
            allowed=allowed, problems=abandon.abandon_problems(call) if allowed else [], **kwargs
        )
