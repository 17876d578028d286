"""``python -m bench``: data set, query counts, load on gunicorn, deadline rush, the
memory of a large upload, the ranking of a lot of 1,000 dossiers and (on demand) one
reminder sweep over 100,000 dossiers and slow clients against nginx and gunicorn; prints
the figures."""

import argparse
import os
import sys
import textwrap
import time
from dataclasses import asdict
from datetime import datetime

ENDPOINTS = ("bare", "home", "call_list", "call_detail", "staff_dossiers", "staff_dossier")
SCENARIOS = (
    "rush",
    "deadline",
    "big_upload",
    "ranking",
    "sweep",
    "slow_clients",
    "archive",
    "topology",
)
# The faults of « deadline » (bench/deadline.py), one run each.
DEADLINE_FAULTS = ("none", "redis", "postgres")
# Run only when named in --only: the sweep builds two databases and sweeps each three times
# (about four minutes on two cores, half of it in the sweep repeated under tracemalloc);
# slow_clients holds twenty uploads open twice, through nginx then without (about 1.5 min);
# archive writes 200 MB of files, then a worker archives them (a few minutes); topology
# runs the rush through nginx to two gunicorn instances sharing PostgreSQL, Redis and a
# local S3 server (moto), with a Celery worker and beat (a few minutes).
OPT_IN = ("sweep", "slow_clients", "archive", "topology")
# --full: every page and scenario, the opt-in ones too, at full size.
FULL_RUSH_CANDIDATES = 200
DEFAULT_RUSH_CANDIDATES = 50


def _wrap(*paragraphs: str) -> str:
    return "\n\n".join(
        textwrap.fill(paragraph, width=88, break_on_hyphens=False, break_long_words=False)
        for paragraph in paragraphs
    )


def _variables() -> str:
    from bench import env as bench_env

    lines = ["Variables d'environnement (lues au lancement) :"]
    for name, meaning, default in bench_env.VARIABLES:
        lines.append(
            textwrap.fill(
                f"{name} : {meaning} (par défaut : {default})",
                width=88,
                break_on_hyphens=False,
                break_long_words=False,
                initial_indent="  ",
                subsequent_indent="      ",
            )
        )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_wrap(
            "Remplit la base PostgreSQL du bench (BENCH_DATABASE_URL ; appels, dossiers), compte les requêtes SQL "
            "des pages pour deux tailles de données, sert la plateforme avec gunicorn et mesure "
            "débit et latence des pages face à une vue Django nue. Puis deux scénarios sur un "
            "appel ouvert préparé pour le bench : « rush », des candidats qui se connectent, "
            "remplissent le formulaire, envoient leurs fichiers et déposent tous en même temps "
            "(débit, latences par étape, erreurs, puis vérification en base des dépôts, "
            "accusés et empreintes SHA-256) ; « big_upload », la mémoire des workers pendant "
            "l'envoi d'un fichier de 50 Mo ; « ranking », le classement d'un lot de 1 000 "
            "dossiers recevables × 3 évaluations × 7 sous-critères (appel préparé puis retiré), "
            "page et exports CSV et XLSX face à la vue nue, et leurs requêtes SQL pour 3 et pour "
            "1 000 dossiers ; « sweep » (seulement s'il est nommé dans --only : environ quatre "
            "minutes), un balayage des rappels sur 10 000 dossiers et 1 000 conventions puis "
            "100 000 et 10 000, chacun dans sa base (aap_bench_sweep_*, gardée entre deux "
            "lancements) : durée, requêtes, pic mémoire (tracemalloc et RSS), rappels créés, puis "
            "un second balayage au même instant qui ne doit rien créer ; « slow_clients » "
            "(seulement s'il est nommé : environ une minute et demie), 20 candidats qui "
            "envoient chacun 10 Mo à 10 ko/s pendant que 4 lecteurs chargent la page publique "
            "de l'appel, à travers nginx puis directement à gunicorn : latences des lecteurs "
            "(p95 sous 1 s exigé à travers nginx) ; « archive » (seulement s'il est nommé : "
            "quelques minutes), l'archive ZIP d'un appel de 200 dossiers d'un fichier de 1 Mio, "
            "construite par un vrai worker Celery : durée et pic de mémoire résidente du worker "
            "(moins de 100 Mo exigé) ; « topology » (seulement s'il est nommé : quelques "
            "minutes), le rush à travers nginx vers deux instances gunicorn qui partagent "
            "PostgreSQL, Redis (courtier et cache, BENCH_CACHE_URL) et un stockage S3 local "
            "(serveur moto), avec un worker Celery et beat : latences, erreurs, puis chaque "
            "fichier relu dans le bucket, les PDF des accusés dans le bucket, chaque courriel "
            "reçu une fois par un serveur SMTP local et le plafond des connexions partagé. "
            "Aucun courriel ne part : "
            "les tâches attendent dans la base Redis de BENCH_BROKER_URL, vidée ensuite. "
            "Tout serveur que le bench lance (gunicorn, nginx, Redis, SMTP) écoute sur "
            "127.0.0.1, sur un port de BENCH_PORTS s'il est donné.",
            "Résultats : stdout, puis var/bench/bench-<date>.json et le même résumé en "
            "Markdown, var/bench/bench-<date>.md (toutes les latences en p50, p95 et p99). "
            f"--full lance tout à pleine taille : chaque page et chaque scénario, {', '.join(OPT_IN)} "
            f"compris, le rush à {FULL_RUSH_CANDIDATES} candidats (plus d'une demi-heure sur "
            "deux cœurs ; la panne « postgres » de deadline redémarre le PostgreSQL de la machine).",
        ),
        epilog=_variables()
        + "\n\n"
        + _wrap(
            "Exemples : python -m bench --only rush ; python -m bench --only "
            "rush,big_upload --rush-candidates 100 ; python -m bench --only staff_dossiers ; "
            "python -m bench --only ranking ; python -m bench --only sweep --sweep-sizes "
            "10000:1000,100000:10000 ; python -m bench --only slow_clients ; "
            "BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/aap_bench_2 "
            "BENCH_BROKER_URL=redis://127.0.0.1:6379/13 BENCH_PORTS=20000-20999 "
            "python -m bench --full"
        ),
    )
    parser.add_argument("--calls", type=int, default=500, help="appels à projets générés (500)")
    parser.add_argument(
        "--dossiers",
        type=int,
        default=20_000,
        help="dossiers générés sur les appels clos (20000)",
    )
    parser.add_argument(
        "--seconds", type=float, default=10, help="durée de charge par page, en secondes (10)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="clients simultanés (8)")
    parser.add_argument(
        "--warmup", type=float, default=2, help="échauffement par page, en secondes (2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn des pages (2)")
    parser.add_argument(
        "--rush-candidates",
        type=int,
        default=None,
        help=f"candidats du rush, chacun son compte ({DEFAULT_RUSH_CANDIDATES} ; "
        f"{FULL_RUSH_CANDIDATES} avec --full)",
    )
    parser.add_argument(
        "--rush-logins",
        type=int,
        default=0,
        help="comptes de plus qui se connectent à l'instant même des dépôts du rush, pour "
        "voir si les connexions retardent les dépôts (0)",
    )
    parser.add_argument(
        "--rush-workers",
        type=int,
        default=4,
        help="workers gunicorn (sync) du rush et de big_upload (4)",
    )
    parser.add_argument(
        "--deadline-candidates",
        type=int,
        default=200,
        help="candidats de « deadline » : clics dans les 5 dernières secondes (200)",
    )
    parser.add_argument(
        "--deadline-faults",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=["none", "redis", "postgres"],
        metavar="PANNES",
        help="pannes de « deadline », une exécution chacune : none, redis (courtier suspendu), "
        "postgres (redémarrage) ; par défaut les trois",
    )
    parser.add_argument(
        "--big-upload-mb", type=int, default=50, help="taille du fichier de big_upload, en Mio (50)"
    )
    parser.add_argument(
        "--ranking-dossiers",
        type=int,
        default=1000,
        help="dossiers du grand lot de « ranking » (1000 ; le petit lot en a 3)",
    )
    parser.add_argument(
        "--sweep-sizes",
        default="10000:1000,100000:10000",
        metavar="D:C,…",
        help="tailles de « sweep » : dossiers:conventions, séparées par des virgules "
        "(10000:1000,100000:10000)",
    )
    parser.add_argument(
        "--slow-clients",
        type=int,
        default=20,
        help="clients lents de « slow_clients », 10 Mo chacun à 10 ko/s (20)",
    )
    parser.add_argument(
        "--slow-readers",
        type=int,
        default=4,
        help="lecteurs de la page de l'appel pendant « slow_clients » (4)",
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=20,
        help="durée de mesure de « slow_clients », par route, en secondes (20)",
    )
    parser.add_argument(
        "--archive-dossiers",
        type=int,
        default=200,
        help="dossiers de « archive », un fichier chacun (200)",
    )
    parser.add_argument(
        "--archive-mb",
        type=float,
        default=1,
        help="taille du fichier de chaque dossier de « archive », en Mio (1)",
    )
    parser.add_argument(
        "--topology-workers",
        type=int,
        default=2,
        help="workers gunicorn (sync) de chacune des deux instances de « topology » (2) ; "
        "ses candidats : --rush-candidates",
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="régénérer les données (et celles de « sweep ») même si elles existent",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="tout, à pleine taille : chaque page et chaque scénario, "
        f"{', '.join(OPT_IN)} compris, le rush à {FULL_RUSH_CANDIDATES} candidats, les autres "
        "tailles par défaut (balayage jusqu'à 100 000 dossiers, classement de 1 000) ; "
        "résumé Markdown sous var/bench/",
    )
    parser.add_argument(
        "--only",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=None,
        metavar="NOMS",
        help=(
            f"pages à charger parmi {', '.join(ENDPOINTS)} (bare, la référence des rapports, "
            "est mesurée avec toute page), et scénarios parmi "
            f"{', '.join(SCENARIOS)}, séparés par des virgules (par défaut : tout, sauf "
            f"{', '.join(OPT_IN)}, qu'il faut nommer)"
        ),
    )
    args = parser.parse_args(argv)
    if args.full and args.only is not None:
        parser.error("--full lance tout : sans --only")
    if args.only is None:
        args.only = (
            [*ENDPOINTS, *SCENARIOS]
            if args.full
            else [*ENDPOINTS, *(name for name in SCENARIOS if name not in OPT_IN)]
        )
    if args.rush_candidates is None:
        args.rush_candidates = FULL_RUSH_CANDIDATES if args.full else DEFAULT_RUSH_CANDIDATES
    unknown = set(args.only) - set(ENDPOINTS) - set(SCENARIOS)
    if unknown:
        parser.error(f"--only : noms inconnus : {', '.join(sorted(unknown))}")
    if min(args.calls, args.concurrency, args.seconds, args.workers, args.rush_workers) <= 0:
        parser.error("--calls, --concurrency, --seconds et les workers doivent être positifs")
    if args.rush_candidates < 1 or args.dossiers < 0 or args.rush_logins < 0:
        parser.error("--rush-candidates doit être positif, --dossiers et --rush-logins au moins 0")
    if set(args.deadline_faults) - set(DEADLINE_FAULTS) or args.deadline_candidates < 2:
        parser.error(
            f"--deadline-faults parmi {', '.join(DEADLINE_FAULTS)} ; --deadline-candidates ≥ 2"
        )
    # The rush at the deadline is part of the rush.
    if "rush" in args.only and "deadline" not in args.only:
        args.only.append("deadline")
    if not 1 <= args.big_upload_mb < 60:
        parser.error("--big-upload-mb : entre 1 et 59 (la pièce accepte 60 Mo)")
    if args.ranking_dossiers < 1:
        parser.error("--ranking-dossiers doit être positif")
    if args.archive_dossiers < 1 or args.archive_mb <= 0:
        parser.error("--archive-dossiers et --archive-mb doivent être positifs")
    if args.topology_workers < 1:
        parser.error("--topology-workers doit être positif")
    if min(args.slow_clients, args.slow_readers, args.slow_seconds) <= 0:
        parser.error("--slow-clients, --slow-readers et --slow-seconds doivent être positifs")
    from bench import sweep

    try:
        args.sweep_sizes = sweep.parse_sizes(args.sweep_sizes)
    except ValueError:
        parser.error("--sweep-sizes : par exemple 10000:1000,100000:10000 (au moins 100 dossiers)")
    return args


def step(message: str) -> float:
    print(f"· {message}", flush=True)
    return time.perf_counter()


def _loads(values) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def _load_pages(args, environment, pages: list[str]) -> list[dict]:
    from django.db import connections

    from aap.models import Call
    from bench import counts, data, load
    from candidatures.models import Candidature

    slugs = list(Call.objects.public().values_list("slug", flat=True))
    dossier_call = counts.biggest_dossier_call()
    dossier_ids = list(Candidature.objects.values_list("pk", flat=True))
    staff = {"Cookie": data.session_cookie(data.instructeur())}
    connections.close_all()
    endpoints = {
        "bare": load.Endpoint("bare", "/bench/bare/", lambda rng: "/bench/bare/"),
        "home": load.Endpoint("home", "/", lambda rng: "/"),
        "call_list": load.Endpoint("call_list", "/appels/", lambda rng: "/appels/"),
        # Every call's page requested once first: the cache keeps each (core.page_cache).
        "call_detail": load.Endpoint(
            "call_detail",
            "/appels/<slug>/",
            lambda rng: f"/appels/{rng.choice(slugs)}/",
            prime=tuple(f"/appels/{slug}/" for slug in slugs),
        ),
        "staff_dossiers": load.Endpoint(
            "staff_dossiers",
            f"/gestion/appels/{dossier_call.pk}/dossiers/",
            lambda rng: f"/gestion/appels/{dossier_call.pk}/dossiers/",
            staff,
        ),
        "staff_dossier": load.Endpoint(
            "staff_dossier",
            "/gestion/dossiers/<pk>/",
            lambda rng: f"/gestion/dossiers/{rng.choice(dossier_ids)}/",
            staff,
        ),
    }
    return _hammer(args, environment, [endpoints[name] for name in pages])


def _hammer(args, environment, endpoints) -> list[dict]:
    """Each endpoint in turn on a fresh gunicorn: one checked request, a warm-up, then
    ``args.seconds`` of load by ``args.concurrency`` clients."""
    from bench import env as bench_env
    from bench import load, server

    # The workers share a Redis cache, emptied first, as in production as soon as several
    # processes serve (the kept public pages and workbooks).
    bench_env.flush_broker(bench_env.CACHE_URL)
    environment = {**environment, "CACHE_URL": bench_env.CACHE_URL}
    results = []
    with server.gunicorn(environment, workers=args.workers) as srv:
        step(
            f"gunicorn pid {srv.pid}, {srv.workers} workers, http://{srv.host}:{srv.port} ; "
            f"{args.concurrency} clients, {args.warmup:g} s d'échauffement et "
            f"{args.seconds:g} s de mesure par page"
        )
        for endpoint in endpoints:
            load.check(srv.host, srv.port, endpoint)
            load.prime(srv.host, srv.port, endpoint)
            if args.warmup > 0:
                load.hammer(
                    srv.host, srv.port, endpoint, seconds=args.warmup, concurrency=args.concurrency
                )
            cpu_before = server.workers_cpu_seconds(srv.pid)
            result = load.hammer(
                srv.host, srv.port, endpoint, seconds=args.seconds, concurrency=args.concurrency
            )
            cpu = server.workers_cpu_seconds(srv.pid) - cpu_before
            figures = result.as_dict()
            # The workers' CPU time per request answered (the load generator's excluded).
            figures["cpu_ms_per_request"] = round(1000 * cpu / max(1, figures["requests"]), 1)
            print(
                f"  {endpoint.name:<14} {result.rps:8.1f} req/s, "
                f"{figures['cpu_ms_per_request']:.1f} ms CPU par requête, "
                f"{result.errors} erreur(s)",
                flush=True,
            )
            results.append(figures)
    return results


def _ranking(args, environment) -> dict:
    """The ranking of a lot of ``args.ranking_dossiers`` dossiers: query counts on a lot
    of 3 and on the large one, then the page and its exports under load, against the
    bare view. The call is removed afterwards, whatever happens."""
    from django.db import connections

    from bench import data, load, ranking

    began = step(
        f"Classement : appel {ranking.REFERENCE}, {args.ranking_dossiers} dossiers × "
        f"{ranking.EVALUATORS} évaluations × 7 sous-critères (et un lot de "
        f"{ranking.SMALL_DOSSIERS} dossiers)"
    )
    try:
        setup = ranking.prepare(dossiers=args.ranking_dossiers)
        print(f"  prêt en {time.perf_counter() - began:.1f} s")
        print("  " + ", ".join(f"{key} {value}" for key, value in setup.counts.items()))
        step("Requêtes SQL du classement et de ses exports (client de test, dans ce processus)")
        query_counts = ranking.query_counts(setup)
        cookie = data.session_cookie(data.instructeur())
        connections.close_all()
        bare = load.Endpoint("bare", "/bench/bare/", lambda rng: "/bench/bare/")
        results = _hammer(args, environment, [bare, *ranking.endpoints(setup, cookie).values()])
    finally:
        ranking.cleanup()
    return {
        "call": ranking.REFERENCE,
        "prepare_seconds": setup.seconds,
        "counts": setup.counts,
        "query_counts": query_counts,
        "load": results,
    }


def _sweep(args) -> dict:
    from bench import sweep

    sizes = " puis ".join(f"{d} dossiers et {a} conventions" for d, a in args.sweep_sizes)
    step(f"Balayage des rappels à {sweep.NOW:%d/%m/%Y %H:%M} (heure de Paris) : {sizes}")
    return sweep.scenario(args.sweep_sizes, regenerate=args.regenerate)


def _scenarios(args, environment, scenarios: list[str]) -> dict:
    """The rush and the big upload, on the rush's call and gunicorn."""
    from django.db import connections

    from bench import env as bench_env
    from bench import memory, rush, server

    figures = {}
    count = args.rush_candidates if "rush" in scenarios else 0
    began = step(f"Rush : appel {rush.REFERENCE}, {count} candidats et leurs fichiers")
    logins = args.rush_logins if "rush" in scenarios else 0
    setup = rush.prepare(count, logins=logins)
    print(f"  prêt en {time.perf_counter() - began:.1f} s")
    connections.close_all()
    access_log = bench_env.OUTPUT_DIR / "gunicorn-access.log"
    try:
        with server.gunicorn(environment, workers=args.rush_workers, access_log=access_log) as srv:
            step(
                f"gunicorn pid {srv.pid}, {srv.workers} workers {server.worker_shape()}, "
                f"http://{srv.host}:{srv.port}"
            )
            rush.warm_up(srv.host, srv.port, setup, workers=srv.workers)
            if "rush" in scenarios:
                step(
                    f"Rush : {count} candidats ensemble (connexion, formulaire, "
                    f"{len(rush.UPLOADS)} fichiers chacun, dépôt au même instant"
                    + (f", {logins} connexions d'autres comptes à cet instant)" if logins else ")")
                )
                skip = server.log_lines(access_log)
                result = rush.run(srv.host, srv.port, setup)
                print(f"  terminé en {result.seconds:.1f} s, {result.errors} erreur(s)")
                figures["rush"] = result.as_dict()
                in_worker = server.service_times(access_log, skip=skip)
                for item in figures["rush"]["steps"]:
                    item["worker"] = in_worker.get(item["step"], {})
                figures["rush"]["verification"] = rush.verify(setup, setup.candidates)
            if "big_upload" in scenarios:
                step(
                    f"Mémoire : un fichier de {args.big_upload_mb} Mio, RSS des workers "
                    f"relevé toutes les {memory.INTERVAL * 1000:.0f} ms"
                )
                figures["big_upload"] = memory.measure(
                    srv.host, srv.port, srv.pid, setup, megabytes=args.big_upload_mb
                )
    finally:
        rush.cleanup()
        figures["broker_tasks_flushed"] = bench_env.flush_broker()
    return figures


def _deadline(args, environment) -> dict:
    """The last five seconds before a deadline, through nginx, once per fault."""
    from django.db import connections

    from bench import deadline

    why_not = deadline.available()
    if why_not:
        print(f"  « deadline » impossible ici : {why_not}")
        return {"skipped": why_not}
    began = step(
        f"Échéance : appel {deadline.REFERENCE}, {args.deadline_candidates} dossiers complets"
    )
    setup = deadline.prepare(args.deadline_candidates)
    print(f"  prêt en {time.perf_counter() - began:.1f} s")
    runs = []
    try:
        for fault in args.deadline_faults:
            if fault == "postgres" and not deadline.can_restart_postgresql():
                runs.append({"fault": fault, "skipped": "pg_ctlcluster absent"})
                continue
            step(
                f"Échéance, panne « {fault} » : clics dans les {deadline.SPREAD:g} dernières secondes"
            )
            connections.close_all()
            try:
                result = deadline.run(setup, fault, environment)
            except RuntimeError as error:
                # Not measured (a machine too busy to prepare the run in time, gunicorn not
                # answering): said and counted as a failure, the other figures kept.
                print(f"  échec : {error}")
                runs.append({"fault": fault, "failed": str(error)})
            else:
                runs.append(result.as_dict())
            connections.close_all()
    finally:
        deadline.cleanup()
    return {"candidates": args.deadline_candidates, "runs": runs}


def _slow_clients(args, environment) -> dict:
    """Slow uploads held open while readers fetch the call page: through nginx, then not."""
    from bench import slow_clients

    why_not = slow_clients.available()
    if why_not:
        print(f"  « slow_clients » impossible ici : {why_not}")
        return {"skipped": why_not}
    step(
        f"Clients lents : {args.slow_clients} envois de {slow_clients.BODY_BYTES / 1e6:g} Mo à "
        f"{slow_clients.RATE / 1000:g} ko/s, {args.slow_readers} lecteurs de la page de "
        f"l'appel pendant {args.slow_seconds:g} s, à travers nginx puis directement à gunicorn "
        f"({slow_clients.gunicorn_shape()})"
    )
    return slow_clients.scenario(
        environment,
        clients=args.slow_clients,
        readers=args.slow_readers,
        seconds=args.slow_seconds,
    )


def _archive(args, environment) -> dict:
    """A call's archive built by a real Celery worker: its peak memory and its time."""
    from django.db import connections

    from bench import archive
    from bench import env as bench_env

    began = step(
        f"Archive : appel {archive.REFERENCE}, {args.archive_dossiers} dossiers d'un fichier "
        f"de {args.archive_mb:g} Mio chacun"
    )
    setup = archive.prepare(
        dossiers=args.archive_dossiers, file_bytes=int(args.archive_mb * 1024 * 1024)
    )
    print(f"  prêt en {time.perf_counter() - began:.1f} s")
    connections.close_all()
    try:
        step("Archive : un worker Celery (--pool=solo) la construit ; mémoire lue dans /proc")
        return archive.run(setup, environment)
    finally:
        archive.cleanup()
        bench_env.flush_broker()


def _topology(args, environment) -> dict:
    """The rush through nginx to two instances sharing PostgreSQL, Redis and S3."""
    from django.db import connections

    from bench import env as bench_env
    from bench import topology

    step(
        f"Topologie : nginx devant 2 instances gunicorn de {args.topology_workers} workers sync, "
        f"PostgreSQL, Redis (courtier, cache {topology.CACHE_URL}) et un S3 local (moto) "
        f"partagés, un worker Celery et beat ; rush de {args.rush_candidates} candidats"
    )
    connections.close_all()
    try:
        return topology.scenario(
            environment, candidates=args.rush_candidates, workers=args.topology_workers
        )
    finally:
        bench_env.flush_broker()


def _print_topology(figures: dict) -> None:
    from bench import report, topology

    print()
    print(topology.heading(figures) + " Latences vues des candidats, puis temps dans les workers :")
    print(report.rush_table(figures))
    print("\n".join(topology.summary(figures)))


def _print_archive(figures: dict) -> None:
    from bench import archive

    print()
    print(
        f"Archive d'un appel : {figures['dossiers']} dossiers d'un fichier de "
        f"{figures['file_bytes'] / 1024 / 1024:g} Mio, construite par un worker Celery "
        f"(--pool=solo) : {figures['status']} en {figures['seconds']:.1f} s (construction "
        f"{figures['build_seconds']} s), ZIP de {(figures['zip_bytes'] or 0) / 1024 / 1024:.1f} Mio."
    )
    print(
        f"Mémoire résidente du worker : {figures['worker_rss_idle_mib']} Mio au repos, "
        f"pic relevé {figures['worker_rss_peak_sampled_mib']} Mio ({figures['samples']} relevés), "
        f"VmHWM {figures['worker_vmhwm_mib']} Mio : {figures['worker_growth_mib']} Mio de plus "
        f"qu'au repos pendant la construction (au plus {figures['rss_limit_mib']} Mio exigé). "
        f"Pic absolu sous {figures['rss_limit_mib']} Mio : "
        + ("oui" if figures["worker_vmhwm_mib"] < figures["rss_limit_mib"] else "NON")
        + " (le worker au repos, Django, psycopg, WeasyPrint et Celery chargés, pèse déjà "
        f"{figures['worker_rss_idle_mib']} Mio ; sa mémoire propre, bibliothèques partagées "
        f"exclues, est de {figures['worker_private_after_mib']} Mio après la construction)."
    )
    problems = archive.failures(figures)
    print("Vérifications : " + ("toutes tenues" if not problems else "; ".join(problems)))


def _print_slow_clients(figures: dict) -> None:
    from bench import report, slow_clients

    print()
    if "skipped" in figures:
        print(f"Clients lents : non mesuré ({figures['skipped']})")
        return
    print(
        f"Clients lents : {figures['clients']} envois de {figures['body_bytes'] / 1e6:g} Mo à "
        f"{figures['rate_bytes_per_second'] / 1000:g} ko/s chacun (aucun ne finit), "
        f"{figures['readers']} lecteurs de la page publique de l'appel pendant "
        f"{figures['window_seconds']:g} s ; gunicorn : {figures['gunicorn']} (gunicorn.conf.py). "
        "Latence des lectures, un échec compté au temps qu'il a pris (délai "
        f"{figures['reader_timeout_seconds']:g} s) :"
    )
    print(report.slow_clients_table(figures))
    problems = slow_clients.failures(figures)
    print(
        "Vérifications : "
        + ("toutes tenues" if not problems else "; ".join(problems))
        + f" (p95 via nginx sous {figures['p95_limit_ms']:.0f} ms exigé)"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    pages = [name for name in ENDPOINTS if name in args.only]
    if pages and "bare" not in pages:
        pages.insert(0, "bare")
    scenarios = [name for name in SCENARIOS if name in args.only]
    # Other processes on the machine skew every figure: the load averages go with them.
    load_before = os.getloadavg()
    from bench import env as bench_env

    environment = bench_env.environment()
    os.environ.update(environment)
    bench_env.prepare_folders()

    where = bench_env.where()
    started = step(where[0].upper() + where[1:])
    if bench_env.ensure_database():
        print("  créée")
    bench_env.migrate(environment)

    import django

    django.setup()

    from bench import counts, data, report, server

    shape = data.Shape(calls=args.calls, dossiers=args.dossiers)
    dataset = {}
    # « deadline », « sweep » and « slow_clients » make their own data; the others read the
    # data set.
    if pages or set(scenarios) - {"deadline", "sweep", "slow_clients", "archive", "topology"}:
        step(f"Données : {args.calls} appels, {args.dossiers} dossiers")
        dataset = data.ensure(shape, regenerate=args.regenerate)
        if dataset["generated"]:
            print(f"  générées en {dataset['seconds']} s")
        else:
            print("  réutilisées (même taille ; --regenerate pour les refaire)")
        print("  " + ", ".join(f"{key} {value}" for key, value in dataset["counts"].items()))

    query_counts, results = None, []
    if pages:
        step("Requêtes SQL par page (client de test, dans ce processus)")
        query_counts = counts.query_counts()
        results = _load_pages(args, environment, pages)
    scenario_figures = {}
    if {"rush", "big_upload"} & set(scenarios):
        scenario_figures.update(_scenarios(args, environment, scenarios))
    if "deadline" in scenarios:
        scenario_figures["deadline"] = _deadline(args, environment)
    if "ranking" in scenarios:
        scenario_figures["ranking"] = _ranking(args, environment)
    if "sweep" in scenarios:
        scenario_figures["sweep"] = _sweep(args)
    if "slow_clients" in scenarios:
        scenario_figures["slow_clients"] = _slow_clients(args, environment)
    if "archive" in scenarios:
        scenario_figures["archive"] = _archive(args, environment)
    if "topology" in scenarios:
        scenario_figures["topology"] = _topology(args, environment)

    load_after = os.getloadavg()
    figures = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            **report.machine(),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in load_after],
        },
        "where": where,
        "options": {
            "full": args.full,
            "calls": args.calls,
            "dossiers": args.dossiers,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "gunicorn_workers": args.workers,
            "endpoints": pages,
            "scenarios": scenarios,
            "rush_candidates": args.rush_candidates,
            "rush_gunicorn_workers": args.rush_workers,
            "rush_logins_at_deadline": args.rush_logins,
            "big_upload_mb": args.big_upload_mb,
            "ranking_dossiers": args.ranking_dossiers,
            "sweep_sizes": args.sweep_sizes,
            "slow_clients": args.slow_clients,
            "slow_readers": args.slow_readers,
            "slow_seconds": args.slow_seconds,
            "archive_dossiers": args.archive_dossiers,
            "archive_mb": args.archive_mb,
            "topology_workers_per_instance": args.topology_workers,
            "load_generator": "threads and http.client, on the same machine as the server",
        },
        "data_set": {**dataset, "shape": asdict(shape)},
        "load": results,
        "query_counts": query_counts,
        **scenario_figures,
    }
    load_text = report.load_table(results) if results else ""  # adds the ratio to bare
    path = report.write_json(figures)
    summary = report.write_markdown(figures, path.with_suffix(".md"))

    machine = figures["machine"]
    print()
    print(
        f"Machine : {machine['cores']} cœurs ({machine['cpu'] or '?'}), Python {machine['python']}, "
        f"Django {machine['django']}, PostgreSQL {machine['postgresql']}, "
        f"gunicorn {machine['gunicorn']} ; {figures['date']}"
    )
    print(
        f"Charge moyenne de la machine (1, 5, 15 min) : au départ {_loads(load_before)}, "
        f"à la fin {_loads(load_after)}"
        + (
            " ; d'autres processus occupaient les cœurs"
            if load_before[0] > (machine["cores"] or 1)
            else ""
        )
    )
    if results:
        print(
            f"Charge : {args.concurrency} clients pendant {args.seconds:g} s par page, "
            f"{args.workers} workers sync (générateur sur la même machine). Erreurs = "
            "réponses autres que 200 ou échecs. Pages de gestion : un instructeur connecté."
        )
        print()
        print(load_text)
        print()
        print(
            "Requêtes SQL par page (appel ouvert le plus chargé pour les pages d'un appel, "
            "appel aux dossiers les plus nombreux et son dossier le plus complet pour les "
            "dossiers) :"
        )
        print(report.counts_table(query_counts))
    if "rush" in scenario_figures:
        rush_figures = scenario_figures["rush"]
        print()
        print(
            f"Rush avant la date limite ({args.rush_workers} workers "
            f"{server.worker_shape()}). Latences des "
            "réponses réussies vues des candidats, attente d'un worker libre comprise, puis "
            "temps passé dans le worker seul (journal d'accès de gunicorn) ; chaque POST est "
            "suivi de la page où il redirige :"
        )
        print(report.rush_table(rush_figures))
        print(report.rush_summary(rush_figures, rush_figures["verification"]))
    if "deadline" in scenario_figures and "runs" in scenario_figures["deadline"]:
        print()
        print(
            "Échéance : chaque candidat clique « Déposer » à son instant, dans les cinq "
            "dernières secondes (quelques-uns juste après), à travers nginx "
            "(deploy/nginx/, horodatage d'arrivée) vers gunicorn (gunicorn.conf.py) ; "
            "latences vues des candidats :"
        )
        print(report.deadline_table(scenario_figures["deadline"]["runs"]))
    if "big_upload" in scenario_figures:
        big = scenario_figures["big_upload"]
        print()
        print(
            f"Mémoire pendant l'envoi d'un fichier de {big['file_megabytes']:.0f} Mio "
            f"({big['upload_seconds']:.2f} s, {big['upload_megabytes_per_second']:.0f} Mio/s ; "
            f"{big['samples']} relevés de VmRSS, un toutes les {big['interval_ms']:.0f} ms) :"
        )
        print(report.memory_table(big))
        print(
            f"Hausse maximale de la mémoire résidente d'un worker : {big['peak_increase_mib']:.1f} "
            f"Mio pour un fichier de {big['file_megabytes']:.0f} Mio ; fichier enregistré "
            f"intact : {'oui' if big['stored'] else 'NON'}."
        )
    if "ranking" in scenario_figures:
        _print_ranking(args, scenario_figures["ranking"])
    if "sweep" in scenario_figures:
        _print_sweep(scenario_figures["sweep"])
    if "slow_clients" in scenario_figures:
        _print_slow_clients(scenario_figures["slow_clients"])
    if "archive" in scenario_figures:
        _print_archive(scenario_figures["archive"])
    if "topology" in scenario_figures:
        _print_topology(scenario_figures["topology"])
    if "broker_tasks_flushed" in scenario_figures:
        print(
            f"Tâches Celery laissées dans {bench_env.masked(bench_env.BROKER_URL)} puis effacées : "
            f"{scenario_figures['broker_tasks_flushed']}"
        )
    print()
    print(
        f"Résultats : {path.relative_to(bench_env.BASE_DIR)}, "
        f"{summary.relative_to(bench_env.BASE_DIR)} ({bench_env.where()} ; "
        f"durée totale {time.perf_counter() - started:.0f} s)"
    )
    return 1 if failed(figures) else 0


def _print_ranking(args, ranking_figures: dict) -> None:
    from bench import ranking, report

    print()
    print(
        f"Classement d'un lot ({ranking.EVALUATORS} évaluations × 7 sous-critères par dossier), "
        f"préparé en {ranking_figures['prepare_seconds']:.0f} s. Requêtes SQL, puis durée et "
        "taille d'une réponse du grand lot (client de test, dans ce processus) :"
    )
    print(
        report.ranking_counts_table(
            ranking_figures["query_counts"], ranking.SMALL_DOSSIERS, args.ranking_dossiers
        )
    )
    print()
    print(
        f"Sous charge ({args.concurrency} clients pendant {args.seconds:g} s, "
        f"{args.workers} workers sync ; un instructeur connecté) :"
    )
    print(report.load_table(ranking_figures["load"]))


def _print_sweep(sweep_figures: dict) -> None:
    from bench import report, sweep

    print()
    print(
        f"Balayage des rappels à {sweep_figures['now']} : premier balayage (rappels vidés "
        "avant), pic Python mesuré sur un balayage refait sous tracemalloc, hausse de la "
        "mémoire résidente (VmHWM après − VmRSS avant), puis second balayage au même instant :"
    )
    print(report.sweep_table(sweep_figures))
    largest = sweep_figures["sizes"][-1]
    print()
    print(
        f"Par sorte de rappel, pour {largest['dossiers']} dossiers et "
        f"{largest['agreements']} conventions (premier balayage) :"
    )
    print(report.sweep_kinds_table(largest))
    problems = sweep.failures(sweep_figures)
    print("Vérifications : " + ("toutes tenues" if not problems else "; ".join(problems)))


# A worker whose memory grows by more than this share of the file does not stream it.
MEMORY_SHARE_LIMIT = 0.25


def failed(figures: dict) -> bool:
    query_counts = figures["query_counts"]
    if any(r["errors"] for r in figures["load"]):
        return True
    ranking = figures.get("ranking")
    if ranking and (
        any(r["errors"] for r in ranking["load"])
        or any(row["small"] != row["large"] for row in ranking["query_counts"].values())
    ):
        return True
    slow = figures.get("slow_clients")
    if slow and "skipped" not in slow:
        from bench import slow_clients

        if slow_clients.failures(slow):
            return True
    topology_figures = figures.get("topology")
    if topology_figures:
        from bench import topology

        if topology.failures(topology_figures):
            return True
    archive_figures = figures.get("archive")
    if archive_figures:
        from bench import archive

        if archive.failures(archive_figures):
            return True
    sweep = figures.get("sweep")
    if sweep:
        from bench import sweep as sweep_module

        if sweep_module.failures(sweep):
            return True
    if query_counts and any(
        query_counts["small"]["pages"][name]["queries"]
        != query_counts["large"]["pages"][name]["queries"]
        for name in query_counts["small"]["pages"]
    ):
        return True
    rush = figures.get("rush")
    if rush and (rush["errors"] or not rush["verification"]["ok"]):
        return True
    for run in figures.get("deadline", {}).get("runs", []):
        if "failed" in run:
            return True
        if "skipped" not in run and (
            run["refused_although_on_time"] or run["accepted_although_late"] or run["lost"]
        ):
            return True
    big = figures.get("big_upload")
    return bool(
        big
        and (
            not big["stored"]
            or not big["peak_increase_mib"] < MEMORY_SHARE_LIMIT * big["file_megabytes"]
        )
    )


if __name__ == "__main__":
    sys.exit(main())
