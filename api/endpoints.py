"""The open API (JSON, OpenAPI 3): published calls, laureates of decided calls, the
subsidies' open data; and, with a staff token, a call's dossiers' metadata.

django-ninja builds the OpenAPI description from the typed schemas (``api.schemas``); its
Swagger page is off (it loads its files from a CDN): the description is served as JSON at
``/api/v1/openapi.json``. Throttling and the views' rules are added in ``api.urls``."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer

from aap.models import Call
from api import queries, schemas, tokens
from conventions import opendata

api = NinjaAPI(
    title="API ouverte des appels à projets",
    version="1.0.0",
    description=(
        "Appels à projets publiés (lots, critères, pièces, calendrier), structures retenues "
        "des appels décidés, données essentielles des subventions (SCDL « subventions »). "
        "Lecture seule, sans authentification. Les agents (instructeurs, DDETS) peuvent lire "
        "les métadonnées des dossiers avec un jeton (en-tête « Authorization: Bearer … »)."
    ),
    urls_namespace="api",
    docs_url=None,
)


@api.get("/appels", response=list[schemas.CallOut], tags=["appels"], summary="Appels publiés")
@paginate(LimitOffsetPagination)
def list_calls(request):
    """Every call that left the draft status, the latest first."""
    return queries.public_calls()


@api.get(
    "/appels/{slug}",
    response={200: schemas.CallOut, 404: schemas.ErrorOut},
    tags=["appels"],
    summary="Un appel publié",
)
def get_call(request, slug: str):
    return get_object_or_404(queries.public_calls(), slug=slug)


@api.get(
    "/laureats",
    response=list[schemas.LaureateOut],
    tags=["laureats"],
    summary="Structures retenues des appels décidés",
)
@paginate(LimitOffsetPagination)
def list_laureates(request, appel: str | None = None):
    """The selected organisations of calls whose decisions are all notified, as their
    public pages list them (rectifications included). ``appel``: one call's slug."""
    decisions = queries.laureates()
    if appel:
        decisions = decisions.filter(candidature__call__slug=appel)
    return decisions


@api.get(
    "/subventions",
    response=list[schemas.SubsidyOut],
    tags=["subventions"],
    summary="Données essentielles des subventions (SCDL)",
)
@paginate(LimitOffsetPagination)
def list_subsidies(request):
    """The signed agreements in the SCDL « subventions » format (as the CSV open data)."""
    if not opendata.is_configured():
        return []
    return SubsidyRows(opendata.published_conventions())


class SubsidyRows:
    """The open data's rows of a queryset, made for the page asked only (the paginator
    counts, then slices)."""

    def __init__(self, conventions):
        self.conventions = conventions

    def __len__(self):
        return self.conventions.count()

    def __getitem__(self, page: slice):
        return [opendata.row(convention) for convention in self.conventions[page]]


class StaffToken(HttpBearer):
    def authenticate(self, request, token):
        user = tokens.user_of(token)
        if user is None:
            return None  # 401
        if not tokens.may_hold_token(user):
            raise HttpError(403, _("Ce jeton ne donne accès à aucun dossier."))
        return user


@api.get(
    "/gestion/appels/{call_id}/dossiers",
    response={200: list[schemas.DossierMetaOut], 401: schemas.ErrorOut, 403: schemas.ErrorOut},
    auth=StaffToken(),
    tags=["agents"],
    summary="Métadonnées des dossiers d'un appel (jeton d'agent)",
)
@paginate(LimitOffsetPagination)
def list_dossiers(request, call_id: int):
    """Status, lots and receipt number of a call's dossiers, for instructeurs and the
    DDETS, as their dossier list shows them."""
    call = get_object_or_404(Call, pk=call_id)
    return queries.staff_dossiers(request.auth, call)
