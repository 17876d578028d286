"""Instructeurs and the DDETS, a dossier's evaluations: consensus, opinions, decisions."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from candidatures.followup import log_reading
from candidatures.models import Candidature
from core import rules as core_rules
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin
from evaluation import charts, exports, queries, rules, services
from evaluation.forms import (
    ConsensusForm,
    DecisionForm,
    OpinionForm,
    ReopenEvaluationForm,
)
from evaluation.models import Evaluation, scoring_closed_reason


class DossierEvaluationsView(ObjectRuleMixin, DetailView):
    rule = staticmethod(rules.can_read_rankings)
    template_name = "evaluation/dossier_evaluations.html"
    context_object_name = "candidature"

    def get_queryset(self):
        return (
            Candidature.objects.submitted()
            .select_related("call", "organisation", "admissibility", "consensus")
            .prefetch_related("lots")
        )

    def get_context_data(self, **kwargs):
        candidature = self.object
        user = self.request.user
        criteria = list(candidature.call.criteria.prefetch_related("subcriteria"))
        # Blind scoring: a reader who still evaluates this dossier sees no one's scores.
        blind = rules.is_blind_to(user, candidature)
        evaluations = [] if blind else list(queries.submitted_evaluations(candidature))
        results = None if blind else exports.dossier_results(candidature)
        closed = scoring_closed_reason(candidature.pk, candidature.call.status)
        own_opinion = candidature.opinions.filter(author=user).first()
        decisions = {d.lot_id: d for d in candidature.decisions.all()}
        if core_rules.is_ddets_reader(user):
            log_reading(candidature, user, _("évaluations"))
        return super().get_context_data(
            criteria=criteria,
            evaluations=[
                (
                    e,
                    {s.subcriterion_id: s.value for s in e.scores.all()},
                    {j.criterion_id: j.text for j in e.justifications.all()},
                )
                for e in evaluations
            ],
            blind=blind,
            scoring_closed=closed,
            results=results,
            radar=charts.radar(results["criteria"]) if results else None,
            assignments=candidature.assignments.select_related("evaluator", "evaluation"),
            opinions=candidature.opinions.select_related("author"),
            can_run=rules.can_run_evaluation(user),
            can_opine=rules.can_give_opinion(user, candidature),
            consensus_form=ConsensusForm(),
            opinion_form=OpinionForm(
                initial={"kind": own_opinion.kind, "comment": own_opinion.comment}
                if own_opinion
                else None
            ),
            decision_forms=[
                (lot, decisions.get(lot.pk), DecisionForm(prefix=f"lot{lot.pk}"))
                for lot in candidature.lots.all()
            ],
            reopen_form=ReopenEvaluationForm(),
            **kwargs,
        )


class DossierActionMixin(ObjectRuleMixin, View):
    rule = staticmethod(rules.can_run_evaluation)

    def get_queryset(self):
        return Candidature.objects.submitted().select_related("call")

    def back(self):
        return redirect("evaluation:dossier", pk=self.get_object().pk)


class ConsensusView(DossierActionMixin):
    def post(self, request, pk):
        form = ConsensusForm(request.POST)
        if form.is_valid():
            try:
                services.set_consensus(self.get_object(), by=request.user, **form.cleaned_data)
            except DomainError as error:
                error_messages(request, error)
            else:
                messages.success(request, _("La note de consensus est enregistrée."))
        else:
            messages.error(request, _("Indiquez une note entre 0 et 100 et son motif."))
        return self.back()


class OpinionView(DossierActionMixin):
    """The only write of the DDETS."""

    rule = staticmethod(rules.can_give_opinion)

    def post(self, request, pk):
        form = OpinionForm(request.POST)
        if form.is_valid():
            services.record_opinion(self.get_object(), by=request.user, **form.cleaned_data)
            messages.success(request, _("Votre avis est enregistré."))
        else:
            messages.error(request, _("Choisissez un avis."))
        return self.back()


class DecisionView(DossierActionMixin):
    def post(self, request, pk, lot):
        candidature = self.get_object()
        lot = get_object_or_404(candidature.lots.all(), pk=lot)
        form = DecisionForm(request.POST, prefix=f"lot{lot.pk}")
        if form.is_valid():
            try:
                services.record_decision(candidature, lot, by=request.user, **form.cleaned_data)
            except DomainError as error:
                error_messages(request, error)
            else:
                messages.success(
                    request,
                    _("La décision est enregistrée pour le lot %(lot)s.") % {"lot": lot.name},
                )
        else:
            # The form sits in a side panel: each message names its field.
            for name, errors in form.errors.items():
                field = form.fields.get(name)
                messages.error(request, f"{field.label} : {errors[0]}" if field else errors[0])
        return self.back()


class ReopenEvaluationView(ObjectRuleMixin, View):
    rule = staticmethod(rules.can_run_evaluation)

    def get_queryset(self):
        return Evaluation.objects.select_related("assignment")

    def post(self, request, pk):
        evaluation = self.get_object()
        form = ReopenEvaluationForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError(_("Indiquez pourquoi l'évaluation est rouverte."))
            services.reopen_evaluation(evaluation, by=request.user, note=form.cleaned_data["note"])
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(
                request, _("L'évaluation est rouverte : l'évaluateur peut la modifier.")
            )
        return redirect("evaluation:dossier", pk=evaluation.assignment.candidature_id)
