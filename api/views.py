"""« Jetons d'accès à l'API »: staff who read every dossier make and revoke their tokens.
A new token is shown once, on the page answering the form, and never again."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from api import tokens
from api.models import ApiToken
from candidatures.rules import can_read_all_dossiers
from core.exceptions import DomainError
from core.permissions import RuleMixin


class TokenForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Nom du jeton"),
        max_length=100,
        help_text=gettext_lazy("Pour le reconnaître : par exemple « Tableau de bord du service »."),
    )


class TokenListView(RuleMixin, TemplateView):
    rule = staticmethod(can_read_all_dossiers)
    template_name = "api/tokens.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", TokenForm())
        return super().get_context_data(
            tokens=ApiToken.objects.filter(user=self.request.user), **kwargs
        )

    def post(self, request):
        form = TokenForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            token, raw = tokens.create_token(request.user, label=form.cleaned_data["label"])
        except DomainError as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form))
        response = self.render_to_response(self.get_context_data(new_token=token, raw_token=raw))
        response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
        return response


class TokenRevokeView(RuleMixin, View):
    rule = staticmethod(can_read_all_dossiers)

    def post(self, request, pk):
        token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
        try:
            tokens.revoke_token(token, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Le jeton « %(label)s » est révoqué.") % {"label": token.label}
            )
        return redirect("api:tokens")
