"""Instructeurs, a call's evaluation: admissibility, the scoring grid, assignments,
notification. Rankings and committee records: ``ranking.py``; the committee's meetings:
``committee.py``."""

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView

from aap.models import Call
from candidatures.models import Candidature
from core.exceptions import DomainError
from core.messages import error_messages
from core.models import User
from core.permissions import ObjectRuleMixin, RuleMixin
from core.roles import Role
from evaluation import letters, rules, services
from evaluation.forms import (
    AdmissibilityForm,
    AssignForm,
    GridForm,
)
from evaluation.models import Assignment, admissibility_frozen_reason
from evaluation.states import AdmissibilityOutcome, ConflictStatus, DecisionOutcome


class CallEvaluationMixin(RuleMixin):
    """Pages of one call's evaluation, for instructeurs."""

    rule = staticmethod(rules.can_run_evaluation)

    def get_call(self):
        if not hasattr(self, "_call"):
            self._call = get_object_or_404(
                Call.objects.public().select_related("programme"), pk=self.kwargs["pk"]
            )
        return self._call

    def get_context_data(self, **kwargs):
        return super().get_context_data(call=self.get_call(), **kwargs)


class AdmissibilityListView(CallEvaluationMixin, TemplateView):
    template_name = "evaluation/admissibility_list.html"

    def get_context_data(self, **kwargs):
        call = self.get_call()
        dossiers = list(
            Candidature.objects.submitted()
            .filter(call=call)
            .select_related("organisation", "admissibility", "paper_copy", "call")
            .prefetch_related(
                "lots",
                "documents",
                "call__required_documents",
                "call__form_questions",
                "answers",
                "call__lots",
            )
            .order_by("organisation__name")
        )
        rows = [(dossier, services.admissibility_checks(dossier)) for dossier in dossiers]
        return super().get_context_data(rows=rows, **kwargs)


class AdmissibilityDecideView(ObjectRuleMixin, DetailView):
    rule = staticmethod(rules.can_run_evaluation)
    template_name = "evaluation/admissibility_decide.html"
    context_object_name = "candidature"

    def get_queryset(self):
        return Candidature.objects.submitted().select_related("call", "organisation", "paper_copy")

    def get_context_data(self, **kwargs):
        candidature = self.object
        admissibility = getattr(candidature, "admissibility", None)
        initial = (
            {"outcome": admissibility.outcome, "reason": admissibility.reason}
            if admissibility
            else {}
        )
        frozen = admissibility_frozen_reason(candidature.pk, candidature.call.status)
        return super().get_context_data(
            checks=services.admissibility_checks(candidature),
            admissibility=admissibility,
            frozen=frozen,
            rectifiable=frozen is not None
            and services.admissibility_rectification_problem(candidature) is None,
            history=candidature.admissibility_changes.select_related("by"),
            form=kwargs.pop("form", None) or AdmissibilityForm(initial=initial),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.object = candidature = self.get_object()
        form = AdmissibilityForm(request.POST)
        if form.is_valid():
            try:
                services.decide_admissibility(
                    candidature,
                    by=request.user,
                    admissible=form.cleaned_data["outcome"] == "admissible",
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("La décision de recevabilité est enregistrée."))
                return redirect("evaluation:admissibility", pk=candidature.call_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class GridView(CallEvaluationMixin, TemplateView):
    template_name = "evaluation/grid.html"

    def get_form(self, data=None):
        call = self.get_call()
        grid = services.grid_of(call)
        initial = {
            "scale_max": grid.scale_max,
            "levels": "\n".join(grid.levels),
            "evaluators_per_dossier": grid.evaluators_per_dossier,
            "disagreement_threshold": grid.disagreement_threshold,
        }
        if grid.due_at:
            local = timezone.localtime(grid.due_at)
            initial.update(due_date=local.date(), due_time=local.time())
        return GridForm(
            data,
            initial=initial,
            criteria=call.criteria.all(),
            locked=call.scoring_locked_at is not None,
        )

    def get_context_data(self, **kwargs):
        call = self.get_call()
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(
            grid=services.grid_of(call),
            criteria=call.criteria.prefetch_related("subcriteria"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        form = self.get_form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_grid(
                    call,
                    by=request.user,
                    scale_max=data["scale_max"]
                    if data.get("scale_max")
                    else services.grid_of(call).scale_max,
                    levels=data["level_list"],
                    due_at=data["due_at"],
                    evaluators_per_dossier=data["evaluators_per_dossier"],
                    disagreement_threshold=data["disagreement_threshold"],
                    weights=data["weights"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("La grille d'évaluation est enregistrée."))
                return redirect("evaluation:grid", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


def evaluators():
    return User.objects.with_role(Role.EVALUATEUR).order_by("last_name")


class AssignmentsView(CallEvaluationMixin, TemplateView):
    template_name = "evaluation/assignments.html"

    def get_context_data(self, **kwargs):
        call = self.get_call()
        grid = services.grid_of(call)
        dossiers = (
            Candidature.objects.filter(
                call=call, admissibility__outcome=AdmissibilityOutcome.ADMISSIBLE
            )
            .select_related("organisation")
            .prefetch_related(
                "lots",
                Prefetch(
                    "assignments",
                    queryset=Assignment.objects.select_related("evaluator", "evaluation"),
                ),
            )
            .annotate(
                active=Count(
                    "assignments", filter=~Q(assignments__conflict=ConflictStatus.CONFLICT)
                )
            )
            .order_by("organisation__name")
        )
        return super().get_context_data(
            dossiers=dossiers,
            grid=grid,
            lots=call.lots.all(),
            evaluator_list=list(evaluators()),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        try:
            if lot_id := request.POST.get("lot"):
                lot = get_object_or_404(call.lots.all(), pk=lot_id)
                created = services.assign_lot(lot, by=request.user)
                messages.success(
                    request,
                    _("%(n)s affectation(s) créée(s) sur le lot %(lot)s.")
                    % {"n": created, "lot": lot.name},
                )
            else:
                dossier = get_object_or_404(
                    Candidature.objects.filter(call=call), pk=request.POST.get("candidature")
                )
                form = AssignForm(request.POST, evaluators=evaluators())
                if not form.is_valid():
                    messages.error(request, _("Choisissez un évaluateur."))
                else:
                    services.assign(dossier, form.cleaned_data["evaluator"], by=request.user)
                    messages.success(request, _("L'évaluateur est affecté au dossier."))
        except DomainError as error:
            error_messages(request, error)
        return redirect("evaluation:assignments", pk=call.pk)


class NotifyView(CallEvaluationMixin, TemplateView):
    """Before: what is missing, each dossier's letter to preview and edit, then the one
    confirmation. After: every letter of the call, its dispatch and its delivery."""

    template_name = "evaluation/notify.html"

    def get_context_data(self, **kwargs):
        call = self.get_call()
        dossiers = (
            Candidature.objects.submitted()
            .filter(call=call)
            .select_related("organisation", "admissibility")
            .prefetch_related("decisions__lot", "notification_letters")
            .order_by("organisation__name")
        )
        # Not a refusal: the open data leaves referenceDecision empty, but the reference
        # is entered before the notification freezes the decision.
        without_deliberation = [
            _("%(org)s, lot %(lot)s") % {"org": dossier.organisation, "lot": decision.lot.name}
            for dossier in dossiers
            for decision in dossier.decisions.all()
            if decision.outcome == DecisionOutcome.SELECTED and not decision.deliberation
        ]
        return super().get_context_data(
            problems=letters.notification_problems(call),
            without_deliberation=without_deliberation,
            dossiers=dossiers,
            call_letters=letters.letters_of_call(call),
            terms=letters.letter_terms(call),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        try:
            queued = letters.notify_decisions(call, by=request.user)
        except DomainError as error:
            error_messages(request, error)
            return self.render_to_response(self.get_context_data(), status=400)
        messages.success(
            request,
            _(
                "%(n)s lettre(s) de notification confirmée(s) : elles partent aux candidats, "
                "leur envoi s'affiche ci-dessous."
            )
            % {"n": queued},
        )
        return redirect("evaluation:notify", pk=call.pk)
