"""A meeting of the selection committee for the tests, made through the services as staff
make it: held now (after the call's deadline), a chair, a secretary and a DDETS
representative present, nobody linked to a dossier. The call's default quorum rule
(three members, the DDETS present) is then met."""

from django.utils import timezone

from evaluation import committee
from evaluation.models import Interests, Seat

MEMBERS = [
    ("Claire Présidente", "Département de l'Isère", "Vice-présidente insertion", Seat.CHAIR, False),
    ("Samuel Secrétaire", "Département de l'Isère", "Chargé de mission IVE", Seat.SECRETARY, False),
    ("Diane État", "DDETS de l'Isère", "Cheffe du pôle insertion", Seat.MEMBER, True),
]


def quorate_meeting(call, *, by, starts_at=None, place="Hôtel du Département", members=MEMBERS):
    """A meeting of ``call``'s committee with ``members`` (name, organisation, role, seat,
    DDETS), none of whom declares an interest."""
    meeting = committee.create_meeting(
        call,
        by=by,
        starts_at=starts_at or timezone.now(),
        place=place,
    )
    for name, organisation, role, seat, is_ddets in members:
        committee.save_member(
            meeting,
            by=by,
            name=name,
            organisation=organisation,
            role=role,
            seat=seat,
            is_ddets=is_ddets,
            user=None,
            interests=Interests.NONE,
            dossiers=[],
            nature="",
        )
    return meeting
