"""Beyond one machine: the deadline rush against two instances of the platform behind
the documented reverse proxy, sharing everything that must be shared.

Two gunicorn instances (gunicorn.conf.py, each on its own port, each with its own empty
local private folder, as on two machines) sit behind one nginx with deploy/nginx/'s files
and an upstream of two servers (round robin). They share:

- PostgreSQL (the bench database): rows, sessions, django-axes' failed logins;
- Redis: the Celery broker (``BENCH_BROKER_URL``) and the cache (``BENCH_CACHE_URL``),
  hence the login throttles (core/throttle.py);
- an S3-compatible object store: moto's server mode (``moto_server``, a dev dependency),
  started here in its own process with a private bucket (``S3_*``);
- one Celery worker and beat, whose e-mails go to an SMTP sink in this process.

``scenario`` prepares the rush's call (bench/rush.py) with the instances' storage, warms
the instances up through nginx, runs the rush through nginx, waits for the receipts'
e-mails, then checks: 0 errors; rush.verify (every dossier submitted with one receipt,
numbers unique and consecutive, every file's SHA-256 equal to what was sent) reading the
files back from the bucket; each stored object's SHA-256 read with boto3 and no object
but the dossiers' files and the receipts' PDFs; every receipt's PDF in the bucket; each
receipt e-mail received once by the sink (one Message-ID each, no duplicate); both
instances served the rush; nothing written to their local folders; and 31 failed logins
from one address spread over both instances: the 31st is refused by the shared throttle
(30 per 15 minutes by default), which per-process caches would have let through.
"""

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from django.db import connections
from django.test.utils import override_settings

from bench import rush, server
from bench.deadline import Sink, process, wait_for
from bench.env import OUTPUT_DIR
from bench.server import free_port, service_times
from candidatures.models import Document, Receipt
from core.models import OutgoingEmail
from tests import s3 as tests_s3
from tests.nginx import nginx_proxy

CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13")
BUCKET = "aap-bench-topologie"
S3_KEYS = {
    "S3_REGION": "eu-west-3",
    "S3_ACCESS_KEY": "bench-topologie",
    "S3_SECRET_KEY": "bench-topologie-secret",
}
INSTANCES = ("a", "b")
FOLDER = OUTPUT_DIR / "topology"
EMAIL_WAIT_SECONDS = 300
# Failed logins from one address before the throttle refuses (THROTTLE_LOGIN_PER_IP's
# default, 30/15min); the attempts come from this loopback address, not 127.0.0.1, so
# that nginx passes it on as the client's (X-Forwarded-For $remote_addr).
THROTTLE_LIMIT = 30
THROTTLE_CLIENT = "127.0.0.2"
THROTTLED = "Trop de tentatives de connexion"
ACCESS_FORMAT = "%({x-bench-step}i)s %(s)s %(D)s"
THROTTLE_PREFIX = "topologie-essai-"


# --- The shared services ------------------------------------------------------------------


def s3_client(url: str):
    return tests_s3.s3_client(url, S3_KEYS)


@contextlib.contextmanager
def moto_server():
    """moto's S3 server in its own process (``tests.s3``) on a port of the bench's range;
    yields its URL, with the bucket created."""
    log_path = OUTPUT_DIR / "topology-moto.log"
    with (
        log_path.open("w") as log,
        tests_s3.moto_server(S3_KEYS, BUCKET, port=free_port(), log=log) as url,
    ):
        yield url


def flush_cache(url: str = CACHE_URL) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


def storage_settings(s3_url: str) -> dict:
    """STORAGES["default"] as config/settings.py builds it from the S3_* variables."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": s3_url,
            "region_name": S3_KEYS["S3_REGION"],
            "access_key": S3_KEYS["S3_ACCESS_KEY"],
            "secret_key": S3_KEYS["S3_SECRET_KEY"],
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }


# --- The scenario ---------------------------------------------------------------------------


def scenario(environment: dict[str, str], *, candidates: int, workers: int) -> dict:
    """The rush through nginx to two instances of ``workers`` sync workers each."""
    began = time.perf_counter()
    rush.cleanup()  # with the bench's own storage, where an earlier rush left its files
    FOLDER.mkdir(parents=True, exist_ok=True)
    flush_cache()
    sink = Sink()
    sink.controller.start()
    try:
        # This process uses the bucket too, as the instances do: rush.prepare stores the
        # call's templates there, rush.verify reads every file back from it.
        with moto_server() as s3_url, override_settings(STORAGES=_storages(s3_url)):
            figures = _run(environment, s3_url, sink, candidates=candidates, workers=workers)
            _cleanup_accounts()
    finally:
        sink.controller.stop()
        connections.close_all()
        rush.cleanup()
        flush_cache()
    figures["scenario_seconds"] = round(time.perf_counter() - began, 1)
    return figures


def _storages(s3_url: str) -> dict:
    from django.conf import settings

    return {**settings.STORAGES, "default": storage_settings(s3_url)}


def _run(environment, s3_url, sink, *, candidates: int, workers: int) -> dict:
    prepare_began = time.perf_counter()
    # The call's templates go to the bucket, as the instances would store them.
    setup = rush.prepare(candidates)
    prepare_seconds = time.perf_counter() - prepare_began
    connections.close_all()
    env = {
        **os.environ,
        **environment,
        "CACHE_URL": CACHE_URL,
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_url,
        **S3_KEYS,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # nginx is the proxy the instances trust: the client's address is the one it saw.
        "ARRIVAL_TRUSTED_PROXIES": "127.0.0.1",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": "1",
        "LOG_LEVEL": "WARNING",
    }
    ports, logs, instances = {}, {}, []
    for name in INSTANCES:
        ports[name] = free_port()
        logs[name] = FOLDER / f"access-{name}.log"
        logs[name].unlink(missing_ok=True)
        private = FOLDER / f"private-{name}"
        shutil.rmtree(private, ignore_errors=True)
        private.mkdir(parents=True)
        instances.append(
            (
                [
                    *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                    *("--access-logfile", str(logs[name]), "--access-logformat", ACCESS_FORMAT),
                ],
                {
                    **env,
                    "GUNICORN_BIND": f"127.0.0.1:{ports[name]}",
                    # Each machine has its own disk: nothing may land there.
                    "PRIVATE_MEDIA_ROOT": str(private),
                },
                f"topology-{name}-gunicorn.log",
            )
        )
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    worker = [
        *celery,
        *("worker", "--concurrency=2", "--loglevel=WARNING", "--without-mingle"),
        "--without-gossip",
    ]
    beat = [*celery, "beat", "--loglevel=WARNING", "--schedule", str(FOLDER / "beat-schedule")]
    # Two servers in the documented proxy's upstream (round robin).
    upstream = [f"127.0.0.1:{ports[name]}" for name in INSTANCES]
    with contextlib.ExitStack() as stack:
        for command, instance_env, log_name in instances:
            stack.enter_context(process(command, instance_env, log_name))
        stack.enter_context(process(worker, env, "topology-worker.log"))
        stack.enter_context(process(beat, env, "topology-beat.log"))
        port = stack.enter_context(nginx_proxy(upstream, connections=4096, port=free_port()))
        for name in INSTANCES:
            if not wait_for(lambda name=name: server.answers(ports[name], "/healthz"), 60):
                raise RuntimeError(f"l'instance {name} ne répond pas ; voir {OUTPUT_DIR}")
        total_workers = workers * len(INSTANCES)
        rush.warm_up("127.0.0.1", port, setup, workers=total_workers)
        skip = {name: _lines(logs[name]) for name in INSTANCES}
        result = rush.run("127.0.0.1", port, setup)
        figures = result.as_dict()
        served = {name: service_times(logs[name], skip=skip[name]) for name in INSTANCES}
        # Both instances' lines of the rush in one log: the time in the workers per step.
        both = FOLDER / "access-both.log"
        both.write_text(
            "".join(
                "".join(f"{line}\n" for line in logs[name].read_text().splitlines()[skip[name] :])
                for name in INSTANCES
            )
        )
        in_workers = service_times(both)
        for item in figures["steps"]:
            item["worker"] = in_workers.get(item["step"], {})
        # The e-mails of the receipts, sent by the worker: waited for, as a person would.
        connections.close_all()
        receipts = Receipt.objects.filter(call_id=setup.call_id)
        email_wait_began = time.perf_counter()
        wait_for(lambda: _all_sent(receipts), EMAIL_WAIT_SECONDS, step=1)
        email_seconds = time.perf_counter() - email_wait_began
        throttle = _throttle(port, logs)
    connections.close_all()
    figures.update(
        {
            "instances": len(INSTANCES),
            "workers_per_instance": workers,
            "prepare_seconds": round(prepare_seconds, 1),
            "emails_wait_seconds": round(email_seconds, 1),
            "served": {
                name: sum(step["requests"] for step in served[name].values()) for name in INSTANCES
            },
            "throttle": throttle,
            "shared": {
                "database": _masked(environment["DATABASE_URL"]),
                "broker": _masked(environment["CELERY_BROKER_URL"]),
                "cache": _masked(CACHE_URL),
                "object_store": f"moto {_moto_version()} (S3) {s3_url}, bucket {BUCKET}",
            },
        }
    )
    figures["verification"] = verify(setup, s3_url, sink)
    figures["verification"]["local_files"] = sum(
        1
        for name in INSTANCES
        for path in (FOLDER / f"private-{name}").rglob("*")
        if path.is_file()
    )
    return figures


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


def _masked(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _all_sent(receipts) -> bool:
    keys = [f"receipt-{pk}" for pk in receipts.values_list("pk", flat=True)]
    return not OutgoingEmail.objects.filter(key__in=keys).exclude(status="sent").exists()


# --- The shared throttle --------------------------------------------------------------------


def _request(port: int, method: str, path: str, *, step: str, body=None, cookies=None):
    """One request to nginx from ``THROTTLE_CLIENT``, named ``step`` in the access logs."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(THROTTLE_CLIENT, 0)
    )
    headers = {"X-Bench-Step": step, "Accept": "text/html"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        set_cookies = {
            value.split("=", 1)[0]: value.split("=", 1)[1].split(";", 1)[0]
            for name, value in response.getheaders()
            if name.lower() == "set-cookie"
        }
        return response.status, text, set_cookies
    finally:
        connection.close()


def _throttle(port: int, logs: dict[str, Path]) -> dict:
    """``THROTTLE_LIMIT`` + 1 failed logins from one address, spread by nginx over both
    instances (each attempt for another unknown account, so that django-axes, which locks
    an account from an address, never answers first)."""
    try:
        with socket.create_connection(("127.0.0.1", port), source_address=(THROTTLE_CLIENT, 0)):
            pass
    except OSError as error:
        return {"skipped": f"{THROTTLE_CLIENT} injoignable ({error})"}
    from django.urls import reverse

    login = reverse("accounts:login")
    skip = {name: _lines(logs[name]) for name in logs}
    # One form, then only POSTs: nginx's round robin alternates them between the instances.
    _status, text, cookies = _request(port, "GET", login, step="throttle_form")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    answers = []
    for attempt in range(THROTTLE_LIMIT + 1):
        fields = {
            "csrfmiddlewaretoken": token,
            "username": f"{THROTTLE_PREFIX}{attempt:02d}@bench.invalid",
            "password": "pas-le-bon-mot-de-passe",
        }
        status, text, _ = _request(
            port, "POST", login, step="throttle_login", body=urlencode(fields), cookies=cookies
        )
        answers.append("refusée" if THROTTLED in text else f"HTTP {status}")
    time.sleep(0.5)  # the access logs are written after the answer
    per_instance = {
        name: sum(
            1
            for line in logs[name].read_text().splitlines()[skip[name] :]
            if line.startswith("throttle_login ")
        )
        for name in logs
    }
    return {
        "attempts": len(answers),
        "limit": THROTTLE_LIMIT,
        "client": THROTTLE_CLIENT,
        "refused_before_limit": sum(answer == "refusée" for answer in answers[:THROTTLE_LIMIT]),
        "last_refused": answers[-1] == "refusée",
        "answers": dict(Counter(answers)),
        "requests_per_instance": per_instance,
    }


def _cleanup_accounts() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__startswith=THROTTLE_PREFIX).delete()


# --- The checks ---------------------------------------------------------------------------


def verify(setup: rush.Setup, s3_url: str, sink: Sink) -> dict:
    """rush.verify with the bucket as storage, then the bucket and the sink themselves."""
    from core.mail import message_id

    checks = rush.verify(setup, setup.candidates)
    client = s3_client(s3_url)
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            objects[item["Key"]] = item["Size"]
    # The rush's files and the warm-up's (the account of the big upload, same call).
    documents = list(
        Document.objects.filter(candidature__call_id=setup.call_id).values_list(
            "file", "sha256", "size"
        )
    )
    bucket_matching = 0
    for name, sha256, size in documents:
        if objects.get(name) != size:
            continue
        digest = hashlib.sha256()
        body = client.get_object(Bucket=BUCKET, Key=name)["Body"]
        for chunk in body.iter_chunks(1024 * 1024):
            digest.update(chunk)
        bucket_matching += digest.hexdigest() == sha256
    receipts = list(Receipt.objects.filter(call_id=setup.call_id))
    pdfs_in_bucket = 0
    for receipt in receipts:
        if receipt.pdf and objects.get(receipt.pdf.name):
            head = client.get_object(Bucket=BUCKET, Key=receipt.pdf.name, Range="bytes=0-4")
            pdfs_in_bucket += head["Body"].read() == b"%PDF-"
    expected_keys = (
        {name for name, _, _ in documents}
        | {receipt.pdf.name for receipt in receipts if receipt.pdf}
        | {name for name in objects if name.startswith("modeles/")}  # the call's templates
    )
    # Each receipt's e-mail, by its Message-ID (core.mail.message_id): received once.
    emails = list(OutgoingEmail.objects.filter(key__in=[f"receipt-{r.pk}" for r in receipts]))
    wanted = {message_id(email) for email in emails}
    received = Counter(mid for mid, _ in sink.messages)
    checks.update(
        {
            "documents_in_bucket_expected": len(documents),
            "objects_in_bucket": len(objects),
            "bucket_objects_matching_sha256": bucket_matching,
            "unexpected_objects": sorted(set(objects) - expected_keys)[:10],
            "receipt_pdfs_in_bucket": pdfs_in_bucket,
            "receipt_emails": len(emails),
            "receipt_emails_sent": sum(email.status == "sent" for email in emails),
            "receipt_emails_received_once": sum(received[mid] == 1 for mid in wanted),
            "receipt_emails_never_received": sum(received[mid] == 0 for mid in wanted),
            "receipt_emails_received_twice_or_more": sum(received[mid] > 1 for mid in wanted),
            "other_messages_received": sum(
                count for mid, count in received.items() if mid not in wanted
            ),
        }
    )
    checks["bucket_ok"] = (
        bucket_matching == len(documents)
        and checks["files_on_disk_matching_sha256"] == checks["files_expected"]
        and not checks["unexpected_objects"]
        and pdfs_in_bucket == len(receipts)
    )
    checks["emails_ok"] = (
        len(emails) == len(receipts)
        and checks["receipt_emails_sent"] == len(receipts)
        and checks["receipt_emails_received_once"] == len(receipts)
    )
    return checks


def failures(figures: dict) -> list[str]:
    """What the topology's run must show, in French; empty when everything holds."""
    problems = []
    check = figures["verification"]
    if figures["errors"]:
        problems.append(f"{figures['errors']} erreur(s) pendant le rush")
    if not check["ok"]:
        problems.append("vérification du rush en base (rush.verify) non tenue")
    if not check["bucket_ok"]:
        problems.append("fichiers ou PDF des accusés absents ou altérés dans le bucket")
    if not check["emails_ok"]:
        problems.append("courriels des accusés manquants ou en double")
    if check["local_files"]:
        problems.append(f"{check['local_files']} fichier(s) écrits sur le disque d'une instance")
    if min(figures["served"].values()) == 0 or (
        "skipped" not in figures["throttle"]
        and min(figures["throttle"]["requests_per_instance"].values()) == 0
    ):
        problems.append("une instance n'a servi aucune requête")
    throttle = figures["throttle"]
    if "skipped" not in throttle and (
        throttle["refused_before_limit"] or not throttle["last_refused"]
    ):
        problems.append("le plafond des connexions n'est pas partagé entre les instances")
    return problems


# --- What it prints -----------------------------------------------------------------------


def heading(figures: dict) -> str:
    shared = figures["shared"]
    return (
        f"Topologie à deux instances ({figures['workers_per_instance']} workers sync chacune) "
        f"derrière nginx (deploy/nginx/, un upstream de deux serveurs) ; partagés : "
        f"PostgreSQL {shared['database']}, Redis {shared['broker']} (courtier) et "
        f"{shared['cache']} (cache), {shared['object_store']} ; un worker Celery et beat. "
        "Requêtes du rush servies : "
        + ", ".join(f"instance {name} {count}" for name, count in figures["served"].items())
        + "."
    )


def summary(figures: dict) -> list[str]:
    """The lines under the latency table: the rush, the bucket, the e-mails, the throttle,
    then the verdict."""
    from bench import report

    check, throttle = figures["verification"], figures["throttle"]
    lines = report.rush_summary(figures, check).splitlines()
    lines.append(
        f"Bucket : {check['bucket_objects_matching_sha256']}/"
        f"{check['documents_in_bucket_expected']} fichiers relus du bucket avec leur SHA-256, "
        f"{check['receipt_pdfs_in_bucket']}/{check['receipts']} PDF d'accusé dans le bucket, "
        f"{check['objects_in_bucket']} objets, inattendus : {len(check['unexpected_objects'])} ; "
        f"fichiers écrits sur le disque des instances : {check['local_files']}."
    )
    lines.append(
        f"Courriels des accusés : {check['receipt_emails_sent']}/{check['receipt_emails']} "
        f"envoyés par le worker en {figures['emails_wait_seconds']:.0f} s après le rush, reçus "
        f"une fois {check['receipt_emails_received_once']}, jamais "
        f"{check['receipt_emails_never_received']}, en double "
        f"{check['receipt_emails_received_twice_or_more']} (autres messages reçus : "
        f"{check['other_messages_received']})."
    )
    if "skipped" in throttle:
        lines.append(f"Plafond des connexions partagé : non vérifié ({throttle['skipped']}).")
    else:
        lines.append(
            f"Plafond des connexions partagé : {throttle['attempts']} échecs de connexion depuis "
            f"{throttle['client']} (plafond {throttle['limit']}), répartis par nginx "
            + ", ".join(
                f"instance {name} {count}"
                for name, count in throttle["requests_per_instance"].items()
            )
            + f" ; refusés avant le plafond {throttle['refused_before_limit']}, le "
            f"{throttle['attempts']}e refusé : {'oui' if throttle['last_refused'] else 'NON'}."
        )
    problems = failures(figures)
    lines.append(
        "Vérifications : "
        + ("toutes tenues" if not problems else "; ".join(problems))
        + f" (scénario complet en {figures['scenario_seconds']:.0f} s, préparation "
        f"{figures['prepare_seconds']:.0f} s)."
    )
    return lines
