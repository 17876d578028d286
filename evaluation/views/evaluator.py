"""Evaluators: their assignments, the declaration of interests, the scores."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from candidatures.views.candidate import attachment_response, dossier_context
from core import rules as core_rules
from core.exceptions import DomainError
from core.permissions import ObjectRuleMixin, RuleMixin
from evaluation import queries, rules, services
from evaluation.forms import (
    ConflictForm,
    EvaluationForm,
)
from evaluation.models import Assignment, scoring_closed_reason
from evaluation.states import ConflictStatus, EvaluationStatus


class MyEvaluationsView(RuleMixin, TemplateView):
    rule = staticmethod(core_rules.is_evaluator)
    template_name = "evaluation/my_evaluations.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=queries.evaluator_worklist(self.request.user), **kwargs
        )


class AssignmentMixin(ObjectRuleMixin):
    """An evaluator's own assignment; others get 404."""

    role = staticmethod(core_rules.is_evaluator)
    rule = staticmethod(rules.is_own_assignment)
    context_object_name = "assignment"

    def get_queryset(self):
        return Assignment.objects.filter(evaluator=self.request.user).select_related(
            "candidature__call", "candidature__organisation"
        )


class DeclareView(AssignmentMixin, DetailView):
    template_name = "evaluation/declare.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ConflictForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        self.object = assignment = self.get_object()
        form = ConflictForm(request.POST)
        if form.is_valid():
            try:
                services.declare_conflict(assignment, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if assignment.conflict == ConflictStatus.CONFLICT:
                    messages.info(
                        request,
                        _("Votre conflit d'intérêts est enregistré : ce dossier vous est retiré."),
                    )
                    return redirect("evaluation:my_evaluations")
                return redirect("evaluation:score", pk=assignment.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ScoreView(AssignmentMixin, DetailView):
    """Read the dossier and score it; the others' scores stay hidden until submission."""

    rule = staticmethod(rules.is_own_assignment)
    template_name = "evaluation/score.html"

    def get(self, request, *args, **kwargs):
        if (redirect_to := self.declaration_needed()) is not None:
            return redirect_to
        return super().get(request, *args, **kwargs)

    def declaration_needed(self):
        """Nobody reads a dossier before declaring a conflict of interest or its absence."""
        assignment = self.get_object()
        if assignment.conflict == ConflictStatus.UNDECLARED:
            return redirect("evaluation:declare", pk=assignment.pk)
        if assignment.conflict == ConflictStatus.CONFLICT:
            raise PermissionDenied
        return None

    def get_form(self, data=None):
        assignment = self.object
        call = assignment.candidature.call
        evaluation = services.evaluation_of(assignment)
        saved = evaluation.pk is not None
        return EvaluationForm(
            data,
            criteria=list(call.criteria.prefetch_related("subcriteria")),
            grid=services.grid_of(call),
            scores={s.subcriterion_id: s.value for s in evaluation.scores.all()} if saved else {},
            justifications=(
                {j.criterion_id: j.text for j in evaluation.justifications.all()} if saved else {}
            ),
            comment=evaluation.overall_comment,
        )

    def get_context_data(self, **kwargs):
        assignment = self.object
        evaluation = services.evaluation_of(assignment)
        candidature = assignment.candidature
        others = []
        if rules.can_see_other_scores(self.request.user, candidature, evaluation):
            others = [
                e
                for e in queries.submitted_evaluations(candidature)
                if e.assignment_id != assignment.pk
            ]
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(
            evaluation=evaluation,
            candidature=candidature,
            grid=services.grid_of(candidature.call),
            others=others,
            submitted=evaluation.status == EvaluationStatus.SUBMITTED,
            scoring_closed=(
                closed := scoring_closed_reason(candidature.pk, candidature.call.status)
            ),
            editable=evaluation.status == EvaluationStatus.DRAFT and closed is None,
            **dossier_context(candidature),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.object = assignment = self.get_object()
        if (redirect_to := self.declaration_needed()) is not None:
            return redirect_to
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            evaluation = services.save_evaluation(
                assignment,
                by=request.user,
                scores=form.scores(),
                justifications=form.justifications(),
                comment=form.cleaned_data["comment"],
            )
            if "submit" in request.POST:
                services.submit_evaluation(evaluation, by=request.user)
                messages.success(request, _("Votre évaluation est déposée."))
            else:
                messages.success(request, _("Votre évaluation est enregistrée en brouillon."))
        except DomainError as error:
            form.add_error(None, error.message)
            for problem in error.problems:
                form.add_error(None, problem)
            return self.render_to_response(self.get_context_data(form=form), status=409)
        return redirect("evaluation:score", pk=assignment.pk)


class EvaluatorDownloadView(AssignmentMixin, View):
    rule = staticmethod(rules.can_score)

    def get(self, request, pk, document_id):
        assignment = self.get_object()
        document = get_object_or_404(assignment.candidature.documents.all(), pk=document_id)
        return attachment_response(document)
