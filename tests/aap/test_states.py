"""Every (status, action) pair of a call: the move happens or it is refused, and each
move writes one history row."""

import pytest

from aap.models import CallStatusChange
from aap.services import transition_call
from aap.states import CALL_TRANSITIONS, CallAction, CallStatus
from core.exceptions import TransitionNotAllowed
from tests.factories import CallFactory

PAIRS = [(status, action) for status in CallStatus for action in CallAction]


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_status_action_pair(db, instructeur, status, action):
    call = CallFactory(status=status)
    expected = CALL_TRANSITIONS.get((status, action))
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as refusal:
            transition_call(call, action, by=instructeur, note="essai")
        assert "n'est pas possible" in refusal.value.message
        call.refresh_from_db()
        assert call.status == status
        assert not CallStatusChange.objects.filter(call=call).exists()
    else:
        transition_call(call, action, by=instructeur, note="essai")
        call.refresh_from_db()
        assert call.status == expected
        change = CallStatusChange.objects.get(call=call)
        assert (change.from_status, change.to_status, change.action) == (status, expected, action)
        assert change.by == instructeur
        assert change.note == "essai"


def test_the_table_reaches_every_status_from_draft():
    reached, frontier = {CallStatus.DRAFT}, [CallStatus.DRAFT]
    while frontier:
        status = frontier.pop()
        for (source, _action), target in CALL_TRANSITIONS.items():
            if source == status and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CallStatus)


def test_transition_updates_the_object_the_caller_holds(db, instructeur):
    call = CallFactory(status=CallStatus.CLOSED)
    transition_call(call, CallAction.START_REVIEW, by=instructeur)
    assert call.status == CallStatus.UNDER_REVIEW


def test_a_candidate_cannot_move_a_call(db, candidate):
    from django.core.exceptions import PermissionDenied

    call = CallFactory(status=CallStatus.CLOSED)
    with pytest.raises(PermissionDenied):
        transition_call(call, CallAction.START_REVIEW, by=candidate)
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED
