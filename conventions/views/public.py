"""The essential data of signed subsidy agreements, published for anyone (décret
n° 2017-779): the SCDL « subventions » CSV."""

import re

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views import View

from aap.permissions import PublicMixin
from conventions import opendata

SIRET = re.compile(r"\d{14}")


class OpenDataView(PublicMixin, View):
    def get(self, request):
        # Without the authority's SIRET every row would fail the schema: say so instead.
        if not SIRET.fullmatch(settings.AUTHORITY_SIRET or ""):
            return HttpResponse(
                _(
                    "Données ouvertes indisponibles : le SIRET de la collectivité qui attribue "
                    "les subventions doit être configuré (variable AUTHORITY_SIRET, 14 chiffres)."
                ),
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(opendata.to_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="subventions.csv"'
        return response
