"""Health checks for the infrastructure, both public and never redirected to HTTPS.

``/healthz`` (liveness): is this process alive and able to work? It checks the process
and its database only. 200 ``{"status": "ok"}``, or 503 when the database does not
answer. The broker is deliberately not checked: while Redis is away the outbox keeps
every e-mail and sends it later, so a broker outage must not make an orchestrator restart
or a load balancer drop every web server.

``/readyz`` (readiness and monitoring): what works now.
- 200 ``"ok"``: the database, the broker and the antivirus (when configured) answer;
- 200 ``"degraded"``: the site serves, but the broker does not answer (e-mails wait in
  the outbox) or clamd does not (uploads are refused until it is back); ``checks`` says
  which. Keep the server in service and alert someone;
- 503 ``"unavailable"``: the database does not answer; take this server out of service.
"""

from django.db import connection
from django.http import JsonResponse

from core import antivirus
from core.permissions import rule_required
from core.rules import anyone


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_answers() -> bool:
    from config.celery import app  # config imports the apps: read when a check runs

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _state(answers: bool) -> str:
    return "ok" if answers else "unavailable"


@rule_required(anyone, public=True)
def healthz(request):
    """Liveness: 200 when the process reaches its database, 503 otherwise."""
    database = database_answers()
    return JsonResponse(
        {"status": "ok" if database else "error", "database": _state(database)},
        status=200 if database else 503,
    )


@rule_required(anyone, public=True)
def readyz(request):
    """Readiness: 200 "ok" or "degraded" (broker or antivirus away), 503 without database."""
    checks = {
        "database": _state(database_answers()),
        "broker": _state(broker_answers()),
        "antivirus": antivirus.status(),
    }
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif "unavailable" in checks.values():
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)
