"""Programmes in the back-office: the list, a new one, a change, a deletion refused while
a call uses it. The rules are the services' (``aap.programmes``)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from aap import programmes, rules
from aap.models import Programme
from aap.programme_forms import ProgrammeForm
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin, RuleMixin


class ProgrammeMixin:
    rule = staticmethod(rules.can_manage_programmes)
    model = Programme
    context_object_name = "programme"
    success_url = reverse_lazy("aap:programme_list")


class ProgrammeListView(ProgrammeMixin, RuleMixin, ListView):
    template_name = "aap/backoffice/programme_list.html"
    context_object_name = "programmes"

    def get_queryset(self):
        return programmes.with_calls()


class ProgrammeFormMixin(ProgrammeMixin):
    form_class = ProgrammeForm
    template_name = "aap/backoffice/programme_form.html"

    def form_valid(self, form):
        try:
            self.object = programmes.save_programme(form.instance, by=self.request.user)
        except DomainError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Le programme « %(name)s » est enregistré.") % {"name": self.object.short_name},
        )
        return redirect(self.success_url)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProgrammeCreateView(ProgrammeFormMixin, RuleMixin, CreateView):
    pass


class ProgrammeUpdateView(ProgrammeFormMixin, ObjectRuleMixin, UpdateView):
    pass


class ProgrammeDeleteView(ProgrammeMixin, ObjectRuleMixin, DetailView):
    """Confirm, then delete; refused, and said why, while a call uses the programme."""

    template_name = "aap/backoffice/programme_delete.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("refusal", programmes.delete_refusal(self.object))
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        self.object = programme = self.get_object()
        try:
            programmes.delete_programme(programme, by=request.user)
        except DomainError as error:
            context = self.get_context_data(refusal=error.message)
            return self.render_to_response(context, status=400)
        messages.success(
            request, _("Le programme « %(name)s » est supprimé.") % {"name": programme.short_name}
        )
        return redirect(self.success_url)
