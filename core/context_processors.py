from core import rules


def platform(request):
    """What the layout needs to show the right menu to each role."""
    user = request.user
    return {
        "nav_is_instructeur": rules.is_instructeur(user),
        "nav_is_candidat": rules.is_candidat(user),
        "nav_is_ddets": rules.is_ddets_reader(user),
        "nav_is_evaluator": rules.is_evaluator(user),
    }
