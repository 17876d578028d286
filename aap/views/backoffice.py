"""The Service IVE's back-office for calls: create, edit, preview, publish, answer."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from aap import copying, placeholders, queries, rules, services, todo
from aap.copy_forms import CopyCallForm
from aap.forms import (
    AnswerForm,
    CallForm,
    CriterionFormSet,
    ExpectedActionFormSet,
    LotFormSet,
    ReminderSettingsForm,
    ReopenForm,
    RequiredDocumentFormSet,
    TransitionForm,
)
from aap.models import Call, CallQuestion, CallStatusChange
from aap.reminder_settings import call_scope
from aap.states import CallAction, CallStatus
from core.exceptions import DomainError
from core.models import Reminder
from core.permissions import ObjectRuleMixin, RuleMixin
from core.reminders import kind_label


class StaffMixin(RuleMixin):
    rule = staticmethod(rules.can_manage_call)


class StaffCallMixin(ObjectRuleMixin):
    rule = staticmethod(rules.can_manage_call)
    model = Call
    context_object_name = "call"

    def get_queryset(self):
        return queries.calls_visible_to(self.request.user)


class CallListView(StaffMixin, ListView):
    template_name = "aap/backoffice/call_list.html"
    context_object_name = "calls"

    def get_queryset(self):
        return queries.backoffice_calls().order_by("-year", "-deadline")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        by_call = todo.todos_by_call(timezone.now())
        context["todos"] = [
            (call, by_call[call.pk]) for call in context["calls"] if call.pk in by_call
        ]
        return context


class CallCreateView(StaffMixin, CreateView):
    form_class = CallForm
    template_name = "aap/backoffice/call_form.html"

    def form_valid(self, form):
        form.instance.slug = form.cleaned_data["slug"]
        self.object = form.save()
        messages.success(
            self.request,
            _("L'appel à projets est créé en brouillon. Ajoutez ses lots, critères et pièces."),
        )
        return redirect("aap:backoffice_call", pk=self.object.pk)


class CallDetailView(StaffCallMixin, DetailView):
    template_name = "aap/backoffice/call_detail.html"

    def get_queryset(self):
        # The author of each change comes in the same query as the history, so the count
        # does not change when the first change is written.
        return (
            queries.call_page(super().get_queryset())
            .select_related("copied_from")
            .prefetch_related(
                Prefetch("status_changes", queryset=CallStatusChange.objects.select_related("by"))
            )
        )

    def get_context_data(self, **kwargs):
        call = self.object
        return super().get_context_data(
            actions=[CallAction(action) for action in services.available_actions(call)],
            problems=services.call_problems(call) if call.status == CallStatus.DRAFT else [],
            pending_questions=call.questions.pending().count(),
            checklist=copying.copy_checklist(call),
            date_warnings=placeholders.warnings(call) if call.status == CallStatus.DRAFT else [],
            **kwargs,
        )


class CallCopyView(StaffCallMixin, FormView):
    """« Dupliquer » : a draft made from this call, to review before it is published."""

    form_class = CopyCallForm
    template_name = "aap/backoffice/call_copy.html"

    def get_initial(self):
        return copying.copy_defaults(self.get_object())

    def get_context_data(self, **kwargs):
        return super().get_context_data(call=self.get_object(), **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            copy = copying.copy_call(
                self.get_object(),
                by=self.request.user,
                title=data["title"],
                reference=data["reference"],
                months=data["months"],
                opens_at=data["opens_at"],
                deadline=data["deadline"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            self.request,
            _(
                "Le brouillon « %(title)s » est créé. Relisez la liste de vérification avant de le publier."
            )
            % {"title": copy.title},
        )
        return redirect("aap:backoffice_call", pk=copy.pk)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CallUpdateView(StaffCallMixin, UpdateView):
    form_class = CallForm
    template_name = "aap/backoffice/call_form.html"

    def get(self, request, *args, **kwargs):
        if not self.get_object().is_text_editable:
            return self._refuse()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.get_object().is_text_editable:
            return self._refuse()
        return super().post(request, *args, **kwargs)

    def _refuse(self):
        messages.error(
            self.request, _("Cet appel à projets n'est plus modifiable dans son statut actuel.")
        )
        return redirect("aap:backoffice_call", pk=self.get_object().pk)

    def form_valid(self, form):
        form.instance.slug = form.cleaned_data["slug"]
        self.object = services.save_call(form.save(commit=False), by=self.request.user)
        form.save_m2m()
        messages.success(self.request, _("Les modifications sont enregistrées."))
        return redirect("aap:backoffice_call", pk=self.object.pk)


class CallPartView(StaffCallMixin, DetailView):
    """Edit one list of a call (lots, criteria, actions, documents) with a formset."""

    template_name = "aap/backoffice/call_part.html"
    formset_class = None
    title = ""
    intro = ""

    def get_formset(self, data=None, files=None):
        return self.formset_class(data, files, instance=self.object, prefix="items")

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(formset=self.get_formset()))

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        if not call.is_structure_editable:
            messages.error(
                request,
                _(
                    "L'appel à projets est publié : ses lots, critères et pièces ne changent plus, "
                    "pour que tous les candidats soient traités de la même façon."
                ),
            )
            return redirect(request.path)
        formset = self.get_formset(request.POST, request.FILES)
        if not formset.is_valid():
            messages.error(request, _("Le formulaire contient des erreurs : corrigez-les."))
            return self.render_to_response(self.get_context_data(formset=formset), status=400)
        with transaction.atomic():
            formset.save()
        messages.success(request, _("Les modifications sont enregistrées."))
        return redirect(request.path)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, intro=self.intro, **kwargs)


class CallLotsView(CallPartView):
    formset_class = LotFormSet
    title = gettext_lazy("Lots")
    intro = gettext_lazy("Chaque lot est financé séparément : un territoire, ses ETP, son budget.")


class CallCriteriaView(CallPartView):
    formset_class = CriterionFormSet
    title = gettext_lazy("Critères de sélection")
    intro = gettext_lazy(
        "Les pondérations, fixées par le Département, s'additionnent pour faire 100 %."
    )


class CallActionsView(CallPartView):
    formset_class = ExpectedActionFormSet
    title = gettext_lazy("Actions attendues")
    intro = gettext_lazy("Les actions que l'appel attend des porteurs de projet.")


class CallDocumentsView(CallPartView):
    formset_class = RequiredDocumentFormSet
    title = gettext_lazy("Pièces à fournir")
    intro = gettext_lazy(
        "Pour chaque pièce : obligatoire ou non, un ou plusieurs fichiers, formats acceptés, "
        "taille maximale et, si besoin, un modèle à télécharger."
    )


class CallTransitionView(StaffCallMixin, DetailView):
    """Confirm one move of the call's status, with a note for the history."""

    template_name = "aap/backoffice/call_transition.html"

    def get_action(self):
        try:
            action = CallAction(self.kwargs["action"])
        except ValueError:
            raise Http404 from None
        if action not in services.SIMPLE_ACTIONS:
            raise Http404
        return action

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=TransitionForm()))

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        action = self.get_action()
        form = TransitionForm(request.POST)
        if form.is_valid():
            try:
                services.SIMPLE_ACTIONS[action](
                    call, by=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
                for problem in error.problems:
                    form.add_error(None, problem)
            else:
                messages.success(
                    request,
                    _("Action effectuée : %(action)s. Nouveau statut : %(status)s.")
                    % {"action": action.label, "status": call.get_status_display()},
                )
                return redirect("aap:backoffice_call", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        action = self.get_action()
        return super().get_context_data(
            action=action,
            allowed=action in services.available_actions(self.object),
            refusal=services.action_refusal(self.object, action),
            problems=services.call_problems(self.object) if action == CallAction.PUBLISH else [],
            date_warnings=placeholders.warnings(self.object)
            if action == CallAction.PUBLISH
            else [],
            **kwargs,
        )


class CallReopenView(StaffCallMixin, DetailView):
    template_name = "aap/backoffice/call_reopen.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=ReopenForm()))

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        form = ReopenForm(request.POST)
        if form.is_valid():
            try:
                services.reopen_call(
                    call,
                    by=request.user,
                    deadline=form.cleaned_data["deadline"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Le dépôt des dossiers est rouvert."))
                return redirect("aap:backoffice_call", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class QuestionListView(StaffCallMixin, DetailView):
    template_name = "aap/backoffice/question_list.html"

    def get_context_data(self, **kwargs):
        questions = self.object.questions.select_related("asked_by", "answered_by")
        return super().get_context_data(questions=questions, **kwargs)


class AnswerQuestionView(ObjectRuleMixin, FormView):
    rule = staticmethod(rules.can_manage_call)
    form_class = AnswerForm
    template_name = "aap/backoffice/answer_question.html"

    def get_queryset(self):
        return CallQuestion.objects.select_related("call", "asked_by")

    def get_rule_object(self):
        return self.get_object().call

    def get_initial(self):
        question = self.get_object()
        return {
            "public_question": question.public_question or question.question,
            "answer": question.answer,
        }

    def get_context_data(self, **kwargs):
        question = self.get_object()
        return super().get_context_data(question=question, call=question.call, **kwargs)

    def form_valid(self, form):
        question = self.get_object()
        try:
            services.answer_question(question, by=self.request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("La réponse est publiée sur la page de l'appel."))
        return redirect(reverse("aap:backoffice_questions", kwargs={"pk": question.call_id}))


class CallRemindersView(StaffCallMixin, DetailView):
    """What the reminders of a call sent, and when they go out (per-call offsets)."""

    template_name = "aap/backoffice/call_reminders.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ReminderSettingsForm(call=self.object))
        reminders = (
            Reminder.objects.filter(scope=call_scope(self.object.pk))
            .select_related("recipient", "email")
            .order_by("-created_at")[:300]
        )
        return super().get_context_data(reminders=reminders, kind_label=kind_label, **kwargs)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = ReminderSettingsForm(request.POST, call=self.object)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        form.save()
        messages.success(request, _("Les réglages des rappels sont enregistrés."))
        return redirect("aap:backoffice_reminders", pk=self.object.pk)
