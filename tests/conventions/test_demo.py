"""The demo data gives the seed call the follow-up indicators its agreements report on."""

from aap.demo import seed
from aap.demo.loader import load_demo
from aap.models import Call
from conventions.demo import SEED_INDICATORS


def test_the_seed_calls_have_their_indicators(db):
    load_demo(with_accounts=False)
    for reference in (seed.REFERENCE, seed.DEMO_REFERENCE):
        call = Call.objects.get(reference=reference)
        assert [i.label for i in call.indicators.all()] == [row[0] for row in SEED_INDICATORS]
        assert all(indicator.target > 0 for indicator in call.indicators.all())
    load_demo(with_accounts=False)
    assert Call.objects.get(reference=seed.REFERENCE).indicators.count() == len(SEED_INDICATORS)
