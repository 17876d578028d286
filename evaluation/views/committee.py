"""The selection committee of a call: its quorum rule and its meetings, with the members
present and their declarations of interests. Instructeurs manage them; the DDETS reads
them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from aap.models import Call
from core.exceptions import DomainError
from core.messages import error_messages
from core.permissions import RuleMixin
from evaluation import committee, rules
from evaluation.committee_forms import MeetingForm, MemberForm, QuorumRuleForm
from evaluation.models import CommitteeMeeting, CommitteeMember, quorum_problems, quorum_rule_of
from evaluation.views.ranking import EVALUATION_STATUSES


def _meeting_initial(meeting: CommitteeMeeting) -> dict:
    local = timezone.localtime(meeting.starts_at)
    return {"day": local.date(), "time": local.time(), "place": meeting.place}


class CommitteeView(RuleMixin, TemplateView):
    """The call's committee: its quorum rule (instructeurs change it by POST) and its
    meetings, each with its members and whether it meets the quorum."""

    rule = staticmethod(rules.can_read_rankings)
    template_name = "evaluation/committee.html"

    def get_call(self):
        return get_object_or_404(
            Call.objects.filter(status__in=EVALUATION_STATUSES), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        call = self.get_call()
        rule = quorum_rule_of(call)
        meetings = list(
            CommitteeMeeting.objects.filter(call=call).prefetch_related("members", "records__lot")
        )
        for meeting in meetings:
            meeting.problems = quorum_problems(meeting)
        kwargs.setdefault(
            "form",
            QuorumRuleForm(
                initial={
                    "min_members": rule.min_members,
                    "ddets_required": rule.ddets_required,
                    "interested_excluded": rule.interested_excluded,
                }
            ),
        )
        return super().get_context_data(
            call=call,
            rule=rule,
            rule_frozen=call.committee_records.exists(),
            meetings=meetings,
            can_run=rules.can_run_evaluation(self.request.user),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not rules.can_run_evaluation(request.user):
            raise PermissionDenied
        call = self.get_call()
        form = QuorumRuleForm(request.POST)
        if form.is_valid():
            try:
                committee.update_quorum_rule(call, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("La règle de quorum est enregistrée."))
                return redirect("evaluation:committee", pk=call.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MeetingCreateView(RuleMixin, TemplateView):
    rule = staticmethod(rules.can_run_evaluation)
    template_name = "evaluation/meeting_form.html"

    def get_call(self):
        return get_object_or_404(
            Call.objects.filter(status__in=EVALUATION_STATUSES), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", MeetingForm())
        return super().get_context_data(call=self.get_call(), **kwargs)

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        form = MeetingForm(request.POST)
        if form.is_valid():
            try:
                meeting = committee.create_meeting(
                    call,
                    by=request.user,
                    starts_at=form.cleaned_data["starts_at"],
                    place=form.cleaned_data["place"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "La séance est enregistrée : ajoutez ses membres présents et leurs "
                        "déclarations d'intérêts."
                    ),
                )
                return redirect("evaluation:meeting", pk=meeting.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MeetingMixin(RuleMixin):
    def get_meeting(self) -> CommitteeMeeting:
        if not hasattr(self, "_meeting"):
            self._meeting = get_object_or_404(
                CommitteeMeeting.objects.filter(call__status__in=EVALUATION_STATUSES)
                .select_related("call")
                .prefetch_related("records__lot"),
                pk=self.kwargs["pk"],
            )
        return self._meeting


class MeetingView(MeetingMixin, TemplateView):
    """A meeting: its date and place, members present and their declarations, and the
    quorum for each lot. Instructeurs correct the date and place by POST."""

    rule = staticmethod(rules.can_read_rankings)
    template_name = "evaluation/meeting.html"

    def get_context_data(self, **kwargs):
        meeting = self.get_meeting()
        lots = list(meeting.call.lots.all())
        kwargs.setdefault("form", MeetingForm(initial=_meeting_initial(meeting)))
        return super().get_context_data(
            call=meeting.call,
            meeting=meeting,
            members=meeting.members.select_related("user").prefetch_related(
                "interest_dossiers__organisation"
            ),
            records=list(meeting.records.all()),
            lot_quorum=[(lot, quorum_problems(meeting, lot)) for lot in lots],
            rule=quorum_rule_of(meeting.call),
            can_run=rules.can_run_evaluation(self.request.user),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not rules.can_run_evaluation(request.user):
            raise PermissionDenied
        meeting = self.get_meeting()
        form = MeetingForm(request.POST)
        if form.is_valid():
            try:
                committee.update_meeting(
                    meeting,
                    by=request.user,
                    starts_at=form.cleaned_data["starts_at"],
                    place=form.cleaned_data["place"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("La séance est modifiée."))
                return redirect("evaluation:meeting", pk=meeting.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MemberFormView(TemplateView):
    """Add a member present (``MemberCreateView``) or correct one (``MemberView``)."""

    template_name = "evaluation/member_form.html"
    member = None

    def get_context_data(self, **kwargs):
        meeting = self.get_meeting()
        if "form" not in kwargs:
            initial = MemberForm.initial_of(self.member) if self.member else {}
            kwargs["form"] = MemberForm(initial=initial, call=meeting.call)
        return super().get_context_data(
            call=meeting.call, meeting=meeting, member=self.member, **kwargs
        )

    def post(self, request, *args, **kwargs):
        meeting = self.get_meeting()
        form = MemberForm(request.POST, call=meeting.call)
        if form.is_valid():
            data = form.cleaned_data
            try:
                committee.save_member(
                    meeting,
                    by=request.user,
                    member=self.member,
                    name=data["name"],
                    organisation=data["organisation"],
                    role=data["role"],
                    seat=data["seat"],
                    is_ddets=data["is_ddets"],
                    user=data["user"],
                    interests=data["interests"],
                    dossiers=data["dossiers"],
                    nature=data["nature"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Le membre présent est enregistré."))
                return redirect("evaluation:meeting", pk=meeting.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class MemberCreateView(MeetingMixin, MemberFormView):
    rule = staticmethod(rules.can_run_evaluation)


class MemberMixin(MeetingMixin):
    rule = staticmethod(rules.can_run_evaluation)

    def get_member(self) -> CommitteeMember:
        if self.member is None:
            self.member = get_object_or_404(
                CommitteeMember.objects.filter(
                    meeting__call__status__in=EVALUATION_STATUSES
                ).select_related("meeting__call"),
                pk=self.kwargs["pk"],
            )
        return self.member

    def get_meeting(self) -> CommitteeMeeting:
        return self.get_member().meeting


class MemberView(MemberMixin, MemberFormView):
    pass


class MemberDeleteView(MemberMixin, MeetingView):
    """Remove a member present (POST only); refused once a record was frozen at the
    meeting: the meeting's page answers 409 with the reason."""

    rule = staticmethod(rules.can_run_evaluation)
    http_method_names = ["post"]
    member = None

    def post(self, request, *args, **kwargs):
        member = self.get_member()
        try:
            committee.remove_member(member, by=request.user)
        except DomainError as error:
            error_messages(request, error)
            return self.render_to_response(self.get_context_data(), status=409)
        messages.success(
            request, _("%(name)s est retiré des membres présents.") % {"name": member.name}
        )
        return redirect("evaluation:meeting", pk=member.meeting_id)
