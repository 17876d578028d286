"""The editor of a call's funding-request form: the questions in a compact list, added,
changed, deleted and moved in place with htmx, or by a plain POST and a redirect without
JavaScript. The rules (a draft only, the call's lock, positions 1..n) are the services'
(``aap.form_editor``); these views bind a form, call one service and render."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from aap import form_editor
from aap.forms import QuestionForm
from aap.models import Question
from aap.models.calls import STRUCTURE_LOCKED
from aap.views.backoffice import StaffCallMixin
from core.exceptions import DomainError
from core.htmx import is_htmx, vary_on_htmx

ADD_PREFIX = "new"


def edit_prefix(question: Question) -> str:
    return f"q{question.pk}"


class EditorMixin(StaffCallMixin):
    page_template = "aap/backoffice/form_editor.html"
    partial_template = "aap/partials/_form_editor.html"

    def editor_url(self) -> str:
        return reverse("aap:backoffice_questions_form", kwargs={"pk": self.object.pk})

    def get_question(self) -> Question:
        return get_object_or_404(
            Question.objects.select_related("call"),
            pk=self.kwargs["question_id"],
            call=self.get_object(),
        )

    def render_editor(
        self, *, add_form=None, editing=None, notice="", error="", focus_add=False, status=200
    ):
        """The whole page, or the editor's fragment for htmx; ``editing`` is a question's
        id and its bound form, shown in place of its line."""
        call = self.object
        add_form = add_form or QuestionForm(prefix=ADD_PREFIX)
        # The cursor goes where the person types next: the question opened, or a new one.
        if editing:
            editing[1].fields["label"].widget.attrs["autofocus"] = True
        elif focus_add:
            add_form.fields["label"].widget.attrs["autofocus"] = True
        context = {
            "call": call,
            "questions": list(call.form_questions.order_by("position", "pk")),
            "editable": call.is_structure_editable,
            "add_form": add_form,
            "editing_id": editing[0] if editing else None,
            "edit_form": editing[1] if editing else None,
            "notice": notice,
            "error": error,
        }
        if is_htmx(self.request):
            # htmx swaps only successful answers: a refusal is shown in the fragment.
            response = render(self.request, self.partial_template, context | {"oob": True})
        else:
            response = render(self.request, self.page_template, context, status=status)
        return vary_on_htmx(response)

    def done(self, notice: str, *, focus_add=False):
        if is_htmx(self.request):
            return self.render_editor(notice=notice, focus_add=focus_add)
        messages.success(self.request, notice)
        return redirect(self.editor_url())

    def refused(self, error: str):
        if is_htmx(self.request):
            return self.render_editor(error=error)
        messages.error(self.request, error)
        return redirect(self.editor_url())


class FormEditorView(EditorMixin, DetailView):
    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_editor()


class QuestionAddView(EditorMixin, View):
    """Add a question at the end of the form."""

    def post(self, request, *args, **kwargs):
        self.object = call = self.get_object()
        if not call.is_structure_editable:  # said at once; the service checks it under lock
            return self.refused(str(STRUCTURE_LOCKED))
        form = QuestionForm(request.POST, prefix=ADD_PREFIX, instance=Question(call=call))
        if form.is_valid():
            try:
                question = form_editor.add_question(call, by=request.user, values=form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return self.done(
                    _("La question « %(label)s » est ajoutée en position %(n)d.")
                    % {"label": question.label, "n": question.position},
                    focus_add=True,
                )
        return self.render_editor(add_form=form, status=400)


class QuestionEditView(EditorMixin, View):
    """The question's fields in place of its line; saved, the line comes back."""

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        question = self.get_question()
        if not self.object.is_structure_editable:
            return self.refused(str(STRUCTURE_LOCKED))
        form = QuestionForm(instance=question, prefix=edit_prefix(question))
        return self.render_editor(editing=(question.pk, form))

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        question = self.get_question()
        if not self.object.is_structure_editable:
            return self.refused(str(STRUCTURE_LOCKED))
        form = QuestionForm(request.POST, instance=question, prefix=edit_prefix(question))
        if form.is_valid():
            try:
                form_editor.update_question(question, by=request.user, values=form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return self.done(
                    _("La question « %(label)s » est enregistrée.") % {"label": question.label}
                )
        return self.render_editor(editing=(question.pk, form), status=400)


class QuestionDeleteView(EditorMixin, View):
    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        question = self.get_question()
        try:
            form_editor.delete_question(question, by=request.user)
        except DomainError as error:
            return self.refused(error.message)
        return self.done(_("La question « %(label)s » est supprimée.") % {"label": question.label})


class QuestionMoveView(EditorMixin, View):
    """« Monter » / « Descendre »: the question swaps places with its neighbour."""

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        question = self.get_question()
        try:
            seen = int(request.POST["position"]) if request.POST.get("position") else None
        except ValueError:
            seen = None
        try:
            moved = form_editor.move_question(
                question,
                by=request.user,
                direction=request.POST.get("direction"),
                seen_position=seen,
            )
        except DomainError as error:
            return self.refused(error.message)
        if not moved:
            return self.done(
                _("La question « %(label)s » est déjà en position %(n)d.")
                % {"label": question.label, "n": question.position}
            )
        return self.done(
            _("La question « %(label)s » est maintenant en position %(n)d.")
            % {"label": question.label, "n": question.position}
        )
