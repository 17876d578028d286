"""Instructeurs, the letters before they leave: each dossier's free paragraphs, its
preview (HTML or PDF, written nowhere), and the call's place, signatory and recours."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from aap.models import Call
from candidatures.models import Candidature
from core import downloads
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin
from evaluation import letters, rules
from evaluation.forms import LetterDraftForm, LetterTermsForm
from evaluation.views.call import CallEvaluationMixin


class DossierLetterMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_run_evaluation)

    def get_queryset(self):
        return Candidature.objects.submitted().select_related(
            "call", "organisation", "admissibility"
        )


class LetterDraftView(DossierLetterMixin, DetailView):
    """The dossier's letter: its free paragraphs, editable until staff confirm."""

    template_name = "evaluation/letter_draft.html"
    context_object_name = "candidature"

    def get_context_data(self, **kwargs):
        letter = letters.letter_draft_of(self.object)
        kwargs.setdefault(
            "form", LetterDraftForm(initial={"opening": letter.opening, "closing": letter.closing})
        )
        return super().get_context_data(letter=letter, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = candidature = self.get_object()
        form = LetterDraftForm(request.POST)
        if form.is_valid():
            try:
                letters.save_letter_draft(candidature, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Les paragraphes de la lettre sont enregistrés."))
                return redirect("evaluation:letter_draft", pk=candidature.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LetterPreviewView(DossierLetterMixin, DetailView):
    """The dossier's letter as it would leave now, in HTML or PDF: nothing is stored (GET
    never writes). A letter sent is read as it left through ``letter_file``."""

    template_name = "evaluation/letter_preview.html"
    context_object_name = "candidature"

    def get(self, request, *args, **kwargs):
        self.object = candidature = self.get_object()
        letter = letters.letter_draft_of(candidature)
        fmt = kwargs["fmt"]
        if fmt == "pdf":
            return downloads.document(
                letters.preview_pdf(letter),
                f"Apercu-{candidature.call.reference}-{candidature.pk}.pdf",
                "application/pdf",
                inline=True,
            )
        if fmt != "html":
            raise Http404
        return self.render_to_response(self.get_context_data(**letters.letter_context(letter)))


class LetterTermsView(CallEvaluationMixin, TemplateView):
    """The call's own place, signatory and « voies et délais de recours »."""

    template_name = "evaluation/letter_terms.html"

    def get_form(self, data=None):
        call = self.get_call()
        defaults = {field: getattr(settings, setting) for _key, field, setting in letters.TERMS}
        # What the letters would print without a wording of the call's own.
        defaults["appeal_wording"] = letters.appeal_paragraph(letters.letter_terms(call))
        return LetterTermsForm(data, instance=call, defaults=defaults)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(terms=letters.letter_terms(self.get_call()), **kwargs)

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        form = self.get_form(request.POST)
        if form.is_valid():
            letters.set_letter_terms(
                Call.objects.get(pk=call.pk),
                by=request.user,
                **{name: form.cleaned_data[name] for name in letters.TERM_FIELDS},
            )
            messages.success(
                request,
                _(
                    "Le signataire et les voies de recours des lettres de cet appel sont enregistrés."
                ),
            )
            return redirect("evaluation:letter_terms", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)
