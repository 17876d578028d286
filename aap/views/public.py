"""Pages every visitor reads: the calls, their PDF, their templates, their answers."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from aap import queries, rules, services
from aap.forms import AskQuestionForm
from aap.models import Call, RequiredDocument
from aap.states import CallStatus
from aap.templatetags.aap_tags import remaining_text
from core import downloads, page_cache, throttle
from core.exceptions import DomainError
from core.pdf import ACCESSIBLE, render_pdf_once
from core.permissions import PublicMixin, RuleMixin


class HomeView(PublicMixin, TemplateView):
    template_name = "aap/home.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        calls = queries.with_lot_summary(Call.objects.open_at(now)).order_by("deadline")
        return super().get_context_data(open_calls=calls, now=now, **kwargs)


class CallListView(PublicMixin, TemplateView):
    template_name = "aap/call_list.html"
    closed_per_page = 20

    def get_context_data(self, **kwargs):
        now = timezone.now()
        base = queries.with_lot_summary(Call.objects.all())
        closed = Paginator(base.closed_at(now).order_by("-deadline", "pk"), self.closed_per_page)
        return super().get_context_data(
            open_calls=base.open_at(now).order_by("deadline"),
            upcoming_calls=base.upcoming_at(now).order_by("opens_at"),
            closed_page=closed.get_page(self.request.GET.get("page")),
            now=now,
            **kwargs,
        )


class CallMixin(PublicMixin):
    """A call the visitor may see, by its slug (drafts are visible to instructeurs only)."""

    def get_call_queryset(self):
        return queries.calls_visible_to(self.request.user)

    def get_call(self):
        if not hasattr(self, "_call"):
            self._call = get_object_or_404(self.get_call_queryset(), slug=self.kwargs["slug"])
        return self._call


def page_clock(call, now) -> tuple[str, str]:
    """What the call's page shows by the clock: its phase (« Ouvert », « Clos »…) and,
    while it is open, the time left as written (« 2 jours et 3 heures »)."""
    phase = call.phase(now)
    return phase, remaining_text(call.deadline, now) if phase == "open" else ""


class CallDetailView(CallMixin, DetailView):
    """A call's page. Anonymous visitors without a waiting message all get the same page:
    it is kept rendered (core.page_cache) under the digest of every row it reads and what
    it shows by the clock, so that an edit, a new document or answer, or the deadline
    passing makes a new page at once. Logged-in visitors get a page rendered for them."""

    template_name = "aap/call_detail.html"
    context_object_name = "call"

    def get(self, request, *args, **kwargs):
        if not page_cache.is_shared(request):
            return super().get(request, *args, **kwargs)
        calls = queries.with_page_digest(self.get_call_queryset().select_related("programme"))
        call = get_object_or_404(calls, slug=self.kwargs["slug"])
        digest = call.page_digest

        def render():
            self.object = queries.prefetch_call_page(call)
            return self.render_to_response(self.get_context_data(object=self.object))

        if digest is None:
            return render()
        clock = page_clock(call, timezone.now())
        key = page_cache.page_key("call", call.pk, request.path, digest, *clock)
        return page_cache.kept_or_rendered(key, render)

    def get_object(self, queryset=None):
        return get_object_or_404(
            queries.call_page(self.get_call_queryset()), slug=self.kwargs["slug"]
        )

    def get_context_data(self, **kwargs):
        call = self.object
        return super().get_context_data(
            now=timezone.now(),
            is_preview=call.status == CallStatus.DRAFT,
            can_ask=rules.can_ask_question(self.request.user, call),
            ask_form=AskQuestionForm(),
            can_manage=rules.can_manage_call(self.request.user, call),
            **kwargs,
        )


class CallPdfView(CallMixin, View):
    """The call as a printable PDF, tagged for screen readers (PDF/UA), rendered once per
    version of what it shows; browsers and proxies may keep it five minutes and revalidate
    it with its ETag."""

    def get(self, request, slug):
        call = get_object_or_404(queries.call_page(self.get_call_queryset()), slug=slug)
        version_date = queries.call_version_date(call)
        pdf, version = render_pdf_once(
            "aap/pdf/call.html", {"call": call, "version_date": version_date}, variant=ACCESSIBLE
        )
        etag = f'W/"{version[:32]}"'
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=int(version_date.timestamp())
        )
        if not_modified is not None:
            return not_modified
        response = downloads.document(
            pdf, f"{call.reference}.pdf", "application/pdf", inline=True, public=True
        )
        response["ETag"] = etag
        response["Last-Modified"] = http_date(version_date.timestamp())
        return response


class TemplateDownloadView(CallMixin, View):
    """The blank template of a required document, offered as a download."""

    def get(self, request, slug, pk):
        document = get_object_or_404(
            RequiredDocument.objects.filter(call__in=self.get_call_queryset()),
            call__slug=slug,
            pk=pk,
        )
        if not document.template:
            raise Http404
        return downloads.stored_file(document.template, document.template_name)


class AskQuestionView(RuleMixin, FormView):
    """A signed-in candidate asks about a call; the answer will be published for all."""

    rule = staticmethod(rules.can_ask_question)
    form_class = AskQuestionForm
    template_name = "aap/ask_question.html"

    def get_rule_object(self):
        if not hasattr(self, "call"):
            self.call = get_object_or_404(Call.objects.public(), slug=self.kwargs["slug"])
        return self.call

    def get_context_data(self, **kwargs):
        return super().get_context_data(call=self.call, **kwargs)

    def form_valid(self, form):
        call = self.call
        try:
            throttle.hit(
                ("question_user", str(self.request.user.pk)),
                ("question_ip", throttle.ip_key(self.request)),
            )
        except throttle.Throttled as error:
            message = _(
                "Trop de questions envoyées en peu de temps depuis ce compte ou cette connexion "
                "internet : votre question n'est pas enregistrée. Réessayez dans %(wait)s."
            ) % {"wait": error.wait}
            return throttle.refused(self, form, error, message)
        try:
            services.ask_question(call, by=self.request.user, text=form.cleaned_data["question"])
        except DomainError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "Votre question est transmise au Service IVE. La réponse sera publiée sur cette page."
            ),
        )
        return redirect(f"{call.get_absolute_url()}#questions")
