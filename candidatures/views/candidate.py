"""The candidates' space: organisations, dossiers, uploads, submission and receipts."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from aap.models import Call, RequiredDocument
from candidatures import followup, outcomes, queries, rules, services
from candidatures.answers import AnswersForm, by_section, read_answers
from candidatures.forms import (
    MessageForm,
    UploadForm,
)
from candidatures.models import Candidature, Document, Organisation, Receipt
from core import downloads
from core.exceptions import DomainError
from core.pending import restore_pending_post
from core.permissions import ObjectRuleMixin, RuleMixin
from core.uploads import StreamedUploadMixin


def received_at(request):
    """The instant the request reached the server (``core.middleware.ReceivedAtMiddleware``)."""
    return getattr(request, "received_at", None) or timezone.now()


class CandidateMixin(RuleMixin):
    rule = staticmethod(rules.can_apply)


class MyDossiersView(CandidateMixin, TemplateView):
    """ "Mes dossiers": each dossier with its status and what comes next."""

    template_name = "candidatures/my_dossiers.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        organisations = Organisation.objects.of_member(user).prefetch_related("memberships__user")
        dossiers = (
            queries.with_missing_count(Candidature.objects.of_member(user))
            .select_related("call", "organisation")
            .prefetch_related(
                Prefetch("receipts", queryset=Receipt.objects.filter(superseded_at=None))
            )
            .order_by("-call__deadline")
        )
        dossiers = outcomes.attach(dossiers)
        started = {d.call_id for d in dossiers}
        open_calls = list(Call.objects.open_at().order_by("deadline"))
        return super().get_context_data(
            organisations=organisations,
            dossiers=dossiers,
            open_calls=open_calls,
            started=started,
            **kwargs,
        )


def start_and_open(request, call, organisation):
    """The organisation's dossier for ``call``, created if needed, opened; or back to the
    call with the reason it cannot be."""
    try:
        candidature = services.start_candidature(call, organisation, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(call.get_absolute_url())
    return redirect("candidatures:dossier", pk=candidature.pk)


# --- Dossiers ---------------------------------------------------------------------------------


class StartView(CandidateMixin, TemplateView):
    """Apply to a call: pick the organisation (when there are several), then the dossier."""

    template_name = "candidatures/start.html"

    def get_call(self):
        return get_object_or_404(Call.objects.public(), slug=self.kwargs["slug"])

    def get(self, request, slug):
        """Reads only: a dossier is created by the POST of this page's button, never by a
        link followed (or prefetched) by a browser."""
        call = self.get_call()
        organisations = list(Organisation.objects.of_member(request.user))
        if not organisations:
            messages.info(request, _("Pour candidater, créez d'abord la fiche de votre structure."))
            return redirect(f"{reverse('candidatures:organisation_create')}?appel={call.slug}")
        existing = {
            dossier.organisation_id: dossier
            for dossier in Candidature.objects.filter(call=call, organisation__in=organisations)
        }
        if len(organisations) == 1 and organisations[0].pk in existing:
            return redirect("candidatures:dossier", pk=existing[organisations[0].pk].pk)
        if not existing and not call.is_open():
            messages.error(
                request, _("Cet appel à projets ne reçoit pas de dossiers en ce moment.")
            )
            return redirect(call.get_absolute_url())
        choices = [(organisation, existing.get(organisation.pk)) for organisation in organisations]
        return self.render_to_response(
            self.get_context_data(
                call=call,
                organisations=organisations,
                choices=choices,
                can_start=call.is_open() and len(existing) < len(organisations),
            )
        )

    def post(self, request, slug):
        call = self.get_call()
        organisation = get_object_or_404(
            Organisation.objects.of_member(request.user), pk=request.POST.get("organisation")
        )
        return start_and_open(request, call, organisation)


class DossierMixin(ObjectRuleMixin):
    """A dossier of one of the user's organisations; others get 404."""

    rule = staticmethod(rules.is_dossier_member)
    model = Candidature
    context_object_name = "candidature"

    def get_queryset(self):
        return Candidature.objects.of_member(self.request.user).select_related(
            "call", "organisation"
        )


def dossier_context(candidature):
    """What the dossier pages share: answers as read, pieces with their files, gaps."""
    call = candidature.call
    sections = by_section(
        [(question, text) for question, _value, text in read_answers(candidature)],
        lambda item: item[0].section,
    )
    documents = list(candidature.documents.all())
    pieces = [
        (required, [d for d in documents if d.required_document_id == required.pk])
        for required in call.required_documents.all()
    ]
    return {
        "answer_sections": sections,
        "pieces": pieces,
        "missing": services.completeness(candidature),
        "total_size": sum(d.size for d in documents),
    }


class DossierView(DossierMixin, DetailView):
    template_name = "candidatures/dossier.html"

    def get_queryset(self):
        return queries.dossier_page(super().get_queryset())

    def get_context_data(self, **kwargs):
        candidature = self.object
        outcomes.attach([candidature], events=True)
        return super().get_context_data(
            **dossier_context(candidature),
            can_edit=rules.content_is_open(candidature),
            open_requests=candidature.piece_requests.open_at(),
            message_form=message_form(self.request, candidature),
            **kwargs,
        )


class DossierPreviewView(DossierView):
    """The dossier as the Service IVE will read it."""

    template_name = "candidatures/dossier_preview.html"


class AnswersView(DossierMixin, DetailView):
    template_name = "candidatures/answers_form.html"
    # A long form: if the session expired while it was typed, keep what was sent.
    keeps_unsent_post = True

    def get_form(self, data=None):
        candidature = self.object
        return AnswersForm(
            data,
            questions=candidature.call.form_questions.all(),
            lots=list(candidature.call.lots.all()),
            answers={a.question_id: a.value for a in candidature.answers.all()},
            chosen_lot_ids=[lot.pk for lot in candidature.lots.all()],
        )

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        pending = restore_pending_post(request)
        form = self.get_form(pending)
        if pending is not None:
            messages.warning(
                request,
                _(
                    "Votre session avait expiré : vos dernières saisies ont été conservées "
                    "ci-dessous. Vérifiez-les puis enregistrez."
                ),
            )
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.object = candidature = self.get_object()
        form = self.get_form(request.POST)
        if not form.is_valid():
            messages.error(request, _("Certaines réponses ne sont pas valables : corrigez-les."))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            services.save_answers(
                candidature, by=request.user, values=form.values(), lot_ids=form.lot_ids()
            )
        except DomainError as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=409)
        messages.success(request, _("Vos réponses sont enregistrées."))
        return redirect("candidatures:dossier", pk=candidature.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_edit=rules.content_is_open(self.object), **kwargs)


class DocumentsView(DossierMixin, DetailView):
    template_name = "candidatures/documents.html"

    def get_context_data(self, **kwargs):
        candidature = self.object
        context = dossier_context(candidature)
        editable = rules.editable_piece_ids(candidature)
        return super().get_context_data(
            **context,
            piece_rows=[
                (required, files, required.pk in editable) for required, files in context["pieces"]
            ],
            upload_form=UploadForm(),
            open_requests=candidature.piece_requests.open_at().prefetch_related(
                "required_documents"
            ),
            **kwargs,
        )


class UploadView(StreamedUploadMixin, DossierMixin, View):
    """Receive one file for one piece, streamed to disk while it is hashed."""

    def get_max_bytes(self) -> int:
        self.required = get_object_or_404(
            RequiredDocument.objects.filter(call=self.get_object().call_id),
            pk=self.kwargs["required_id"],
        )
        return self.required.max_size_bytes

    def receive(self, request, files, too_large, pk, required_id):
        candidature, required = self.get_object(), self.required
        anchor = f"{reverse('candidatures:documents', args=[candidature.pk])}#piece-{required.pk}"
        if too_large:
            messages.error(
                request,
                _(
                    "Le fichier « %(name)s » dépasse la taille maximale de %(max)s Mo : il n'a pas "
                    "été enregistré."
                )
                % {"name": too_large[0], "max": required.max_size_mb},
            )
            return redirect(anchor)
        form = UploadForm(request.POST, files)
        if not form.is_valid():
            messages.error(request, form.errors["file"][0])
            return redirect(anchor)
        try:
            document = services.add_document(
                candidature, required, by=request.user, uploaded=form.cleaned_data["file"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("« %(name)s » est enregistré.") % {"name": document.original_name}
            )
        return redirect(anchor)


class DocumentDownloadView(DossierMixin, View):
    def get(self, request, pk, document_id):
        candidature = self.get_object()
        document = get_object_or_404(candidature.documents.all(), pk=document_id)
        return attachment_response(document)


def attachment_response(document: Document):
    return downloads.stored_file(document.file, document.original_name)


class DocumentDeleteView(DossierMixin, View):
    def post(self, request, pk, document_id):
        candidature = self.get_object()
        document = get_object_or_404(candidature.documents.all(), pk=document_id)
        try:
            services.delete_document(document, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("« %(name)s » est supprimé.") % {"name": document.original_name}
            )
        return redirect(
            f"{reverse('candidatures:documents', args=[pk])}#piece-{document.required_document_id}"
        )


class MessageView(StreamedUploadMixin, DossierMixin, View):
    # The file streams to disk and is dropped as soon as it passes the limit.
    max_bytes = followup.MESSAGE_ATTACHMENT_MAX_BYTES

    def receive(self, request, files, too_large, pk):
        if post_message_form(request, self.get_object(), files, too_large):
            messages.success(request, _("Votre message est envoyé au Service IVE."))
        return redirect(f"{reverse('candidatures:dossier', args=[pk])}#messages")


def message_draft_key(candidature) -> str:
    return f"message-draft-{candidature.pk}"


def message_form(request, candidature) -> MessageForm:
    """The message form, holding the text of a message just refused (nothing is lost)."""
    return MessageForm(initial={"body": request.session.get(message_draft_key(candidature), "")})


def post_message_form(request, candidature, files, too_large) -> bool:
    """Bind the message form and post it; a refusal becomes a French message and the
    text is kept for the form. Returns whether the message was posted."""
    form = MessageForm(request.POST, files)
    if too_large:
        # The file was dropped while it streamed: the message does not leave without it.
        messages.error(
            request,
            _(
                "Le fichier « %(name)s » dépasse la taille maximale de %(max)s Mo : le message "
                "n'est pas envoyé."
            )
            % {"name": too_large[0], "max": followup.MESSAGE_ATTACHMENT_MAX_BYTES // 2**20},
        )
        request.session[message_draft_key(candidature)] = request.POST.get("body", "")[:5000]
        return False
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        request.session[message_draft_key(candidature)] = request.POST.get("body", "")[:5000]
        return False
    try:
        followup.post_message(
            candidature,
            by=request.user,
            body=form.cleaned_data["body"],
            attachment=form.cleaned_data.get("attachment"),
        )
    except DomainError as error:
        messages.error(request, error.message)
        request.session[message_draft_key(candidature)] = form.cleaned_data["body"]
        return False
    request.session.pop(message_draft_key(candidature), None)
    return True


class MessageAttachmentView(DossierMixin, View):
    """The file joined to a message, for the dossier's members only."""

    def get(self, request, pk, message_id):
        message = get_object_or_404(
            self.get_object().messages.exclude(attachment=""), pk=message_id
        )
        return downloads.stored_file(message.attachment, message.attachment_name)
