"""The essential data of signed subsidy agreements, published for anyone (décret
n° 2017-779): the SCDL « subventions » CSV."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views import View

from conventions import opendata
from core import downloads, spreadsheets
from core.permissions import PublicMixin


class OpenDataView(PublicMixin, View):
    def get(self, request):
        if not opendata.is_configured():
            return HttpResponse(
                _(
                    "Données ouvertes indisponibles : le SIRET de la collectivité qui attribue "
                    "les subventions doit être configuré (variable AUTHORITY_SIRET, 14 chiffres)."
                ),
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        return downloads.document(
            opendata.to_csv(), "subventions.csv", spreadsheets.CSV_TYPE, inline=True, public=True
        )
