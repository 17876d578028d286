"""« Conservation des données »: what is due, the bordereaux d'élimination, their visa and
their elimination. Administrators only; every write is one service of ``services``."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, TemplateView

from core import downloads
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin, RuleMixin
from core.spreadsheets import CSV_TYPE
from retention import documents, rules, services
from retention.forms import RefusalForm, VisaForm
from retention.models import Bordereau
from retention.queries import due
from retention.states import Category


class RetentionView(RuleMixin, TemplateView):
    """What is due today, by category, and every bordereau with its status."""

    rule = staticmethod(rules.is_administrator)
    template_name = "retention/index.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        items = due(on=today)
        categories = [
            {
                "category": category,
                "items": [item for item in items if item.category == category],
            }
            for category in Category
        ]
        for row in categories:
            row["volume"] = documents.human_size(sum(item.volume for item in row["items"]))
            row["files"] = sum(item.file_count for item in row["items"])
        return super().get_context_data(
            today=today,
            categories=categories,
            bordereaux=Bordereau.objects.all(),
            **kwargs,
        )


class GenerateView(RuleMixin, View):
    rule = staticmethod(rules.is_administrator)

    def post(self, request):
        try:
            draft = services.generate_draft(by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("retention:index")
        if draft is None:
            messages.info(request, _("Rien n'est à éliminer aujourd'hui : aucun bordereau."))
            return redirect("retention:index")
        messages.success(request, _("Le bordereau en préparation est à jour."))
        return redirect("retention:bordereau", pk=draft.pk)


class BordereauMixin(ObjectRuleMixin):
    rule = staticmethod(rules.is_administrator)
    model = Bordereau
    context_object_name = "bordereau"

    def get_queryset(self):
        return Bordereau.objects.all()


class BordereauView(BordereauMixin, DetailView):
    template_name = "retention/bordereau.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("visa_form", VisaForm(initial={"visa_date": timezone.localdate()}))
        kwargs.setdefault("refusal_form", RefusalForm())
        return super().get_context_data(
            items=documents.ordered_items(self.object),
            history=self.object.status_changes.select_related("by"),
            trace_rows=[
                (category.label, self.object.trace[category.value])
                for category in Category
                if category.value in self.object.trace
            ],
            call_archives=self.object.trace.get("call_archives"),
            **kwargs,
        )


class BordereauDocumentView(BordereauMixin, View):
    def get(self, request, pk, fmt):
        bordereau = self.get_object()
        if fmt == "pdf":
            content, content_type = documents.bordereau_pdf(bordereau), "application/pdf"
        elif fmt == "csv":
            content, content_type = documents.bordereau_csv(bordereau), CSV_TYPE
        else:
            raise Http404
        return downloads.document(content, documents.filename(bordereau, fmt), content_type)


class BordereauActionView(BordereauView):
    """Send to the archives, record the visa or its refusal, list again, eliminate."""

    DONE = {
        "send": gettext_lazy("Le bordereau est envoyé aux archives : sa liste ne change plus."),
        "visa": gettext_lazy("Le visa des archives est enregistré."),
        "refuse": gettext_lazy("Le refus de visa est enregistré : rien ne sera éliminé."),
        "relist": gettext_lazy(
            "Les éléments redeviennent à éliminer : le prochain bordereau les liste."
        ),
        "eliminate": gettext_lazy("L'élimination est lancée ; elle s'exécute en arrière-plan."),
    }

    def get(self, request, *args, **kwargs):
        raise Http404

    def post(self, request, pk, action):
        if action not in self.DONE:
            raise Http404
        self.object = bordereau = self.get_object()
        try:
            if action == "visa":
                form = VisaForm(request.POST)
                if not form.is_valid():
                    return self._invalid(visa_form=form)
                services.record_visa(bordereau, by=request.user, **form.cleaned_data)
            elif action == "refuse":
                form = RefusalForm(request.POST)
                if not form.is_valid():
                    return self._invalid(refusal_form=form)
                services.refuse_visa(bordereau, by=request.user, **form.cleaned_data)
            elif action == "send":
                services.send_to_archives(bordereau, by=request.user)
            elif action == "relist":
                services.relist(bordereau, by=request.user)
            else:
                services.launch_elimination(bordereau, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, str(self.DONE[action]))
        return redirect("retention:bordereau", pk=bordereau.pk)

    def _invalid(self, **forms):
        return self.render_to_response(self.get_context_data(**forms), status=400)
