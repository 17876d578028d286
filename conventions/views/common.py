"""What the staff's and the members' screens of agreements share."""

from decimal import Decimal

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from conventions import charts, queries
from conventions.pdf import convention_pdf, pdf_filename
from conventions.states import PaymentStatus
from core.uploads import HashingUploadHandler


def form_error_messages(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label} : {error}" if label else error)


def file_response(field, filename):
    """A stored file, offered for download only (never shown inline)."""
    response = FileResponse(field.open("rb"), as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def pdf_response(convention):
    response = HttpResponse(convention_pdf(convention), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(convention)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def money_of(convention) -> dict:
    """Scheduled, paid and remaining of one agreement, from its prefetched payments."""
    payments = list(convention.payments.all())
    scheduled = sum((p.amount for p in payments), start=Decimal(0))
    paid = sum((p.amount for p in payments if p.status == PaymentStatus.PAID), start=Decimal(0))
    return {
        "scheduled": scheduled,
        "paid": paid,
        "remaining": convention.amount - paid,
        "unscheduled": convention.amount - scheduled,
    }


def indicator_charts(convention) -> list[dict]:
    return [charts.indicator(item) for item in queries.indicator_series(convention)]


class StreamedUploadMixin:
    """Receive one file streamed to disk while it is hashed; a file over ``max_bytes`` is
    dropped as soon as it passes the limit.

    The upload handlers must be set before the body is read, hence CSRF is checked inside
    (``csrf_protect``) once they are in place. Subclasses implement ``receive``.
    """

    max_bytes: int = 0

    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_object()  # the rule is checked before anything is read
        handler = HashingUploadHandler(request, max_bytes=self.max_bytes)
        request.upload_handlers = [handler]

        def view(request):
            files = request.FILES  # streamed now: ``too_large`` is known afterwards
            return self.receive(request, files, handler.too_large, *args, **kwargs)

        return csrf_protect(view)(request)
