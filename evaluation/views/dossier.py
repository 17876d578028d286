"""Instructeurs and the DDETS, a dossier's evaluations: consensus, opinions, decisions,
their rectifications once notified (and that of a notified inadmissibility), their
history and the dossier's letters."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from candidatures.followup import log_reading
from candidatures.models import Candidature
from core import rules as core_rules
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import ObjectRuleMixin
from evaluation import charts, exports, letters, queries, rules, services
from evaluation.forms import (
    AdmissibilityRectificationForm,
    ConsensusForm,
    DecisionForm,
    OpinionForm,
    RectificationForm,
    ReopenEvaluationForm,
)
from evaluation.models import (
    DecisionFrozen,
    DecisionRevision,
    Evaluation,
    OpinionRevision,
    decision_frozen_reason,
    scoring_closed_reason,
)


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
        decisions = {
            d.lot_id: d for d in candidature.decisions.prefetch_related("rectifications__by")
        }
        notified = decision_frozen_reason(candidature.pk, candidature.call.status)
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
                (
                    lot,
                    decisions.get(lot.pk),
                    RectificationForm(prefix=f"lot{lot.pk}")
                    if notified
                    else DecisionForm(
                        prefix=f"lot{lot.pk}", initial=_initial(decisions.get(lot.pk))
                    ),
                )
                for lot in candidature.lots.all()
            ],
            notified=notified,
            inadmissibility_rectifiable=notified is not None
            and services.admissibility_rectification_problem(candidature) is None,
            reopen_form=ReopenEvaluationForm(),
            letters=candidature.notification_letters.select_related(
                "email", "rectification__decision__lot", "admissibility_rectification"
            ),
            letter_draft=None if notified else letters.decision_letter_of(candidature),
            decision_history=DecisionRevision.objects.filter(decision__candidature=candidature)
            .select_related("by", "decision__lot")
            .order_by("at", "pk"),
            consensus_history=[]
            if blind
            else candidature.consensus_revisions.select_related("by").order_by("at", "pk"),
            opinion_history=OpinionRevision.objects.filter(opinion__candidature=candidature)
            .select_related("by")
            .order_by("at", "pk"),
            **kwargs,
        )


def _initial(decision) -> dict | None:
    """The decision form shows the decision as recorded: saving it again keeps what is not
    retyped (the deliberation's reference, entered later than the outcome)."""
    if decision is None:
        return None
    return {
        name: getattr(decision, name)
        for name in ("outcome", "amount_granted", "fte_granted", "reason", "deliberation")
    }


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


def refused(request, candidature, error: DomainError):
    """A change the rules refuse whatever its values (a notified decision): 409, and the
    way back to the dossier."""
    return TemplateResponse(
        request,
        "evaluation/refused.html",
        {"candidature": candidature, "error": error},
        status=409,
    )


class DecisionView(DossierActionMixin):
    """The ordinary decision form, until the decision is notified."""

    def post(self, request, pk, lot):
        candidature = self.get_object()
        lot = get_object_or_404(candidature.lots.all(), pk=lot)
        form = DecisionForm(request.POST, prefix=f"lot{lot.pk}")
        if form.is_valid():
            try:
                services.record_decision(candidature, lot, by=request.user, **form.cleaned_data)
            except DecisionFrozen as error:
                return refused(request, candidature, error)
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


class RectifyView(DossierActionMixin):
    """« Rectifier la décision »: the only way a notified decision changes."""

    def post(self, request, pk, lot):
        candidature = self.get_object()
        decision = get_object_or_404(candidature.decisions.all(), lot_id=lot)
        form = RectificationForm(request.POST, prefix=f"lot{lot}")
        if not form.is_valid():
            for name, errors in form.errors.items():
                field = form.fields.get(name)
                messages.error(request, f"{field.label} : {errors[0]}" if field else errors[0])
            return self.back()
        try:
            services.rectify_decision(decision, by=request.user, **form.cleaned_data)
        except DomainError as error:
            error_messages(request, error)
        else:
            messages.success(
                request,
                _(
                    "La décision est rectifiée pour le lot %(lot)s : la lettre de rectification "
                    "part au candidat."
                )
                % {"lot": decision.lot.name},
            )
        return self.back()


class RectifyPreviewView(DossierActionMixin):
    """The letter a rectification would send, from the rectification form: nothing is
    written. The page keeps the form, to change it, preview again or confirm."""

    def post(self, request, pk, lot):
        candidature = self.get_object()
        decision = get_object_or_404(candidature.decisions.select_related("lot"), lot_id=lot)
        form = RectificationForm(request.POST, prefix=f"lot{lot}")
        letter = None
        if form.is_valid():
            try:
                letter = services.preview_rectification(
                    decision, by=request.user, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(None, error.message)
        context = {"candidature": candidature, "decision": decision, "form": form}
        if letter is not None:
            context.update(letters.letter_context(letter))
        return TemplateResponse(
            request,
            "evaluation/rectification_preview.html",
            context,
            status=200 if letter is not None else 400,
        )


class AdmissibilityRectifyView(ObjectRuleMixin, DetailView):
    """« Rectifier l'irrecevabilité »: the only way a notified inadmissibility changes, one
    act with the committee's decision on each lot. GET shows the form (or why it does not
    apply), POST records the act; ``preview`` shows its letter and writes nothing."""

    rule = staticmethod(rules.can_run_evaluation)
    template_name = "evaluation/admissibility_rectify.html"
    context_object_name = "candidature"
    preview = False

    def get_queryset(self):
        return Candidature.objects.submitted().select_related(
            "call", "organisation", "admissibility"
        )

    def get_form(self, data=None):
        return AdmissibilityRectificationForm(
            data, lots=self.object.lots.order_by("position", "pk")
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(
            problem=services.admissibility_rectification_problem(self.object), **kwargs
        )

    def post(self, request, *args, **kwargs):
        self.object = candidature = self.get_object()
        form = self.get_form(request.POST)
        letter = None
        if form.is_valid():
            act = (
                services.preview_admissibility_rectification
                if self.preview
                else services.rectify_admissibility
            )
            try:
                letter = act(candidature, by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if not self.preview:
                    messages.success(
                        request,
                        _(
                            "L'irrecevabilité est rectifiée : le dossier est recevable, la "
                            "lettre de rectification part au candidat."
                        ),
                    )
                    return redirect("evaluation:dossier", pk=candidature.pk)
        preview = letters.letter_context(letter) if letter is not None else {}
        return self.render_to_response(
            self.get_context_data(form=form, **preview), status=200 if letter else 400
        )


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
