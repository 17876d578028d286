from django.db import connection
from django.http import JsonResponse

from aap.permissions import rule_required
from aap.rules import anyone


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_answers() -> bool:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@rule_required(anyone, public=True)
def healthz(request):
    """For load balancers and monitoring: 200 when the database and the broker answer."""
    checks = {"database": database_answers(), "broker": broker_answers()}
    return JsonResponse(
        {"status": "ok" if all(checks.values()) else "error", **checks},
        status=200 if all(checks.values()) else 503,
    )
