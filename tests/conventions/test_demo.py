"""The demo data gives the seed call the follow-up indicators its agreements report on."""

from aap.demo import seed
from aap.demo.loader import load_demo
from aap.models import Call
from conventions.demo import SEED_INDICATORS
from conventions.models import Convention


def test_the_seed_calls_have_their_indicators(db):
    load_demo(with_accounts=False)
    for reference in (seed.REFERENCE, seed.DEMO_REFERENCE):
        call = Call.objects.get(reference=reference)
        assert [i.label for i in call.indicators.all()] == [row[0] for row in SEED_INDICATORS]
        assert all(indicator.target > 0 for indicator in call.indicators.all())
    load_demo(with_accounts=False)
    assert Call.objects.get(reference=seed.REFERENCE).indicators.count() == len(SEED_INDICATORS)


def test_the_copy_in_instruction_has_the_indicators_and_no_agreement_yet(db):
    load_demo(with_accounts=True)
    call = Call.objects.get(reference=seed.REVIEW_REFERENCE)
    assert [i.label for i in call.indicators.all()] == [row[0] for row in SEED_INDICATORS]
    # Its dossiers await the committee's decisions: nothing to agree on yet.
    assert call.candidatures.count() == 4
    assert not Convention.objects.exists()
