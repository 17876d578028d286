"""Announcements of a call, for the Service IVE: write (audience, subject, message), see
how many addresses it reaches, confirm, then follow each address's delivery."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from aap.models import Call
from candidatures import announcements, rules
from candidatures.forms import AnnouncementForm
from candidatures.models import Announcement
from core.exceptions import DomainError
from core.models import EmailStatus
from core.permissions import RuleMixin


class CallAnnouncementsMixin(RuleMixin):
    rule = staticmethod(rules.can_manage_dossiers)

    def get_call(self):
        if not hasattr(self, "_call"):
            self._call = get_object_or_404(Call.objects.public(), pk=self.kwargs["pk"])
        return self._call

    def audience_labels(self):
        return {item.key: item.label for item in announcements.audiences()}


class AnnouncementsView(CallAnnouncementsMixin, TemplateView):
    """The form, its preview with the number of recipients, and the history."""

    template_name = "candidatures/staff/announcements.html"

    def get_form(self, data=None):
        return AnnouncementForm(
            data,
            audiences=announcements.audiences(),
            initial={"token": announcements.new_token()},
        )

    def get_context_data(self, **kwargs):
        call = self.get_call()
        history = (
            Announcement.objects.filter(call=call)
            .select_related("sent_by")
            .annotate(
                sent_count=Count("recipients", filter=Q(recipients__email__status=EmailStatus.SENT))
            )
        )
        labels = self.audience_labels()
        history = list(history)
        for item in history:
            item.audience_label = labels.get(item.audience, "")
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(call=call, history=history, **kwargs)

    def post(self, request, *args, **kwargs):
        call = self.get_call()
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        if request.POST.get("confirm") != "1":
            # The preview: nothing is sent before staff read how many it reaches.
            count = len(announcements.recipients(call, data["audience"]))
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    preview={
                        "count": count,
                        "audience": self.audience_labels()[data["audience"]],
                    },
                )
            )
        try:
            announcement = announcements.send_announcement(
                call,
                by=request.user,
                audience=data["audience"],
                subject=data["subject"],
                body=data["body"],
                token=data["token"],
            )
        except announcements.DuplicateAnnouncement as error:
            messages.warning(request, error.message)
            return redirect("candidatures:announcement", call.pk, error.announcement.pk)
        except DomainError as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            request,
            _("L'annonce part vers %(n)d adresses : suivez leur envoi ci-dessous.")
            % {"n": announcement.recipient_count},
        )
        return redirect("candidatures:announcement", call.pk, announcement.pk)


class AnnouncementView(CallAnnouncementsMixin, TemplateView):
    """One announcement as sent, and each address with its delivery status."""

    template_name = "candidatures/staff/announcement.html"

    def get_context_data(self, **kwargs):
        call = self.get_call()
        announcement = get_object_or_404(
            Announcement.objects.filter(call=call).select_related("sent_by"),
            pk=self.kwargs["announcement_id"],
        )
        recipients = announcement.recipients.select_related("email")
        return super().get_context_data(
            call=call,
            announcement=announcement,
            recipients=recipients,
            audience_label=self.audience_labels().get(announcement.audience, ""),
            **kwargs,
        )
