"""Candidates' organisations: create one, edit it, invite colleagues, join by invitation."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from aap.models import Call, OrganisationKind
from candidatures import company_directory, rules, services
from candidatures.forms import (
    InviteForm,
    OrganisationForm,
)
from candidatures.models import Invitation, Organisation
from candidatures.views.candidate import CandidateMixin, start_and_open
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin, RuleMixin


class SiretLookupMixin:
    """« Compléter depuis le SIRET »: the form's values with the directory's answer
    written over them, shown again for the candidate to check and save. Nothing is
    saved here, and when the directory does not answer the form stays as typed."""

    def post(self, request, *args, **kwargs):
        if "lookup" not in request.POST:
            return super().post(request, *args, **kwargs)
        form_class = self.get_form_class()
        typed = {}
        for name, field in form_class.base_fields.items():
            if getattr(field.widget, "allow_multiple_selected", False):
                typed[name] = request.POST.getlist(name)
            elif name in request.POST:
                typed[name] = request.POST[name]
        siret = "".join(typed.get("siret", "").split())
        lookup = {"siret": siret}
        try:
            OrganisationForm.base_fields["siret"].clean(siret)
            for validator in Organisation._meta.get_field("siret").validators:
                validator(siret)
        except ValidationError as error:
            lookup["status"] = "invalid"
            lookup["message"] = error.messages[0]
        else:
            try:
                found = company_directory.lookup_siret(siret)
            except company_directory.DirectoryUnavailable:
                lookup["status"] = "unavailable"
            else:
                if found is None:
                    lookup["status"] = "unknown"
                else:
                    typed.update(found.form_values(), siret=siret)
                    lookup.update(
                        status="found" if found.active else "closed",
                        establishment=found,
                        kind_label=OrganisationKind(found.kind).label,
                    )
        kwargs = {"initial": typed, "prefix": self.get_prefix()}
        if getattr(self, "object", None) is not None:
            kwargs["instance"] = self.object
        form = form_class(**kwargs)
        return self.render_to_response(self.get_context_data(form=form, lookup=lookup))


class OrganisationCreateView(SiretLookupMixin, CandidateMixin, FormView):
    form_class = OrganisationForm
    template_name = "candidatures/organisation_form.html"

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        territories = data.pop("territories")
        try:
            organisation = services.create_organisation(
                by=self.request.user, territories=territories, **data
            )
        except DomainError as error:
            form.add_error("siret", error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("La structure est créée. Vous en êtes membre."))
        call = Call.objects.public().filter(slug=self.request.GET.get("appel", "")).first()
        if call is not None:
            # Created on the way to a call: the dossier the candidate came for is opened.
            return start_and_open(self.request, call, organisation)
        return redirect("candidatures:organisation", pk=organisation.pk)


class OrganisationMixin(ObjectRuleMixin):
    rule = staticmethod(rules.is_member)
    model = Organisation
    context_object_name = "organisation"

    def get_queryset(self):
        return Organisation.objects.of_member(self.request.user)


class OrganisationDetailView(OrganisationMixin, DetailView):
    template_name = "candidatures/organisation_detail.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("memberships__user", "territories")

    def get_context_data(self, **kwargs):
        pending = self.object.invitations.filter(accepted_at=None, expires_at__gt=timezone.now())
        return super().get_context_data(invite_form=InviteForm(), pending=pending, **kwargs)


class OrganisationUpdateView(SiretLookupMixin, OrganisationMixin, FormView):
    form_class = OrganisationForm
    template_name = "candidatures/organisation_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_object()}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        territories = data.pop("territories")
        services.update_organisation(
            self.get_object(), by=self.request.user, territories=territories, **data
        )
        messages.success(self.request, _("Les informations de la structure sont enregistrées."))
        return redirect("candidatures:organisation", pk=self.get_object().pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisation=self.get_object(), **kwargs)


class InviteView(OrganisationMixin, View):
    def post(self, request, pk):
        organisation = self.get_object()
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invite_member(
                    organisation, by=request.user, email=form.cleaned_data["email"]
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("Invitation envoyée à %(email)s : le lien est valable 14 jours.")
                    % {"email": invitation.email},
                )
        else:
            messages.error(request, _("Indiquez une adresse électronique valide."))
        return redirect("candidatures:organisation", pk=organisation.pk)


class AcceptInvitationView(RuleMixin, TemplateView):
    """Open to any signed-in person: the service checks the invited address."""

    rule = staticmethod(lambda user, obj=None: user.is_authenticated)
    template_name = "candidatures/invitation.html"

    def get_invitation(self):
        return get_object_or_404(
            Invitation.objects.select_related("organisation", "invited_by"),
            token=self.kwargs["token"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(invitation=self.get_invitation(), **kwargs)

    def post(self, request, token):
        invitation = self.get_invitation()
        try:
            services.accept_invitation(invitation, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("candidatures:invitation", token=token)
        messages.success(
            request, _("Vous êtes membre de %(name)s.") % {"name": invitation.organisation.name}
        )
        return redirect("candidatures:organisation", pk=invitation.organisation_id)
