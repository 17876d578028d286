"""The open API's subsidies (``/api/v1/subventions``) are the SCDL open data's rows: the
same agreements, the same values, and none while the authority's SIRET is not set."""

from decimal import Decimal

from django.urls import reverse

from tests.conventions.test_opendata import SCDL_COLUMNS, agreements, read_csv  # noqa: F401


def test_the_api_publishes_the_rows_of_the_csv(agreements, client):  # noqa: F811
    _header, rows = read_csv(client)
    response = client.get(reverse("api:list_subsidies"))
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == len(rows) == 1
    for item, row in zip(items, rows, strict=True):
        assert list(item) == SCDL_COLUMNS
        for column in SCDL_COLUMNS:
            if column in {"montant", "pourcentageSubvention"}:
                assert Decimal(item[column]) == Decimal(row[column]), column
            else:
                assert item[column] == row[column], column


def test_without_the_authority_siret_the_api_publishes_nothing(agreements, client, settings):  # noqa: F811
    settings.AUTHORITY_SIRET = ""
    assert client.get(reverse("api:list_subsidies")).json() == {"items": [], "count": 0}
