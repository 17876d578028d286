"""Full addresses of pages, one at a time or for many rows."""

import pytest

from core.links import absolute_url, absolute_urls


@pytest.mark.parametrize(
    "viewname",
    [
        "candidatures:dossier",
        "candidatures:documents",
        "conventions:detail",
        "conventions:my_convention",
    ],
)
def test_addresses_for_many_rows_are_those_reversed_one_by_one(viewname):
    url_of = absolute_urls(viewname)
    for pk in (1, 42, 987654321):
        assert url_of(pk) == absolute_url(viewname, pk=pk)
