"""``python -m bench``: data set, query counts, then load on gunicorn; prints the figures."""

import argparse
import os
import sys
import time
from dataclasses import asdict
from datetime import datetime

ENDPOINTS = ("bare", "home", "call_list", "call_detail")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Remplit la base PostgreSQL aap_bench, compte les requêtes SQL des pages pour deux "
            "tailles de données, sert la plateforme avec gunicorn et mesure débit et latence "
            "des pages publiques face à une vue Django nue. Résultats : stdout et var/bench/."
        ),
    )
    parser.add_argument("--calls", type=int, default=500, help="appels à projets générés (500)")
    parser.add_argument(
        "--seconds", type=float, default=10, help="durée de charge par page, en secondes (10)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="clients simultanés (8)")
    parser.add_argument(
        "--warmup", type=float, default=2, help="échauffement par page, en secondes (2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn (2)")
    parser.add_argument(
        "--regenerate", action="store_true", help="régénérer les données même si elles existent"
    )
    parser.add_argument(
        "--only",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=list(ENDPOINTS),
        metavar="PAGES",
        help=(
            f"pages à charger, séparées par des virgules, parmi {', '.join(ENDPOINTS)} "
            "(bare, la référence des rapports, est toujours mesurée)"
        ),
    )
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(ENDPOINTS)
    if unknown:
        parser.error(f"--only : pages inconnues : {', '.join(sorted(unknown))}")
    if args.calls < 1 or args.concurrency < 1 or args.seconds <= 0:
        parser.error("--calls, --concurrency et --seconds doivent être positifs")
    return args


def step(message: str) -> float:
    print(f"· {message}", flush=True)
    return time.perf_counter()


def _loads(values) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Other processes on the machine skew every figure: the load averages go with them.
    load_before = os.getloadavg()
    from bench import env as bench_env

    environment = bench_env.environment()
    os.environ.update(environment)
    bench_env.prepare_folders()

    started = step(f"Base {bench_env.DATABASE_URL}")
    if bench_env.ensure_database():
        print("  créée")
    bench_env.migrate(environment)

    import django

    django.setup()
    from django.db import connections

    from bench import counts, data, load, report, server

    shape = data.Shape(calls=args.calls)
    step(f"Données : {args.calls} appels")
    dataset = data.ensure(shape, regenerate=args.regenerate)
    if dataset["generated"]:
        print(f"  générées en {dataset['seconds']} s")
    else:
        print("  réutilisées (même taille ; --regenerate pour les refaire)")
    print("  " + ", ".join(f"{key} {value}" for key, value in dataset["counts"].items()))

    step("Requêtes SQL par page (client de test, dans ce processus)")
    query_counts = counts.query_counts()

    from aap.models import Call

    slugs = list(Call.objects.public().values_list("slug", flat=True))
    connections.close_all()
    endpoints = {
        "bare": load.Endpoint("bare", "/bench/bare/", lambda rng: "/bench/bare/"),
        "home": load.Endpoint("home", "/", lambda rng: "/"),
        "call_list": load.Endpoint("call_list", "/appels/", lambda rng: "/appels/"),
        "call_detail": load.Endpoint(
            "call_detail", "/appels/<slug>/", lambda rng: f"/appels/{rng.choice(slugs)}/"
        ),
    }
    chosen = [name for name in ENDPOINTS if name == "bare" or name in args.only]

    results = []
    with server.gunicorn(environment, workers=args.workers) as srv:
        step(
            f"gunicorn pid {srv.pid}, {srv.workers} workers, http://{srv.host}:{srv.port} ; "
            f"{args.concurrency} clients, {args.warmup:g} s d'échauffement et "
            f"{args.seconds:g} s de mesure par page"
        )
        for name in chosen:
            endpoint = endpoints[name]
            load.check(srv.host, srv.port, endpoint)
            if args.warmup > 0:
                load.hammer(
                    srv.host, srv.port, endpoint, seconds=args.warmup, concurrency=args.concurrency
                )
            result = load.hammer(
                srv.host, srv.port, endpoint, seconds=args.seconds, concurrency=args.concurrency
            )
            print(f"  {name:<12} {result.rps:8.1f} req/s, {result.errors} erreur(s)", flush=True)
            results.append(result.as_dict())

    load_after = os.getloadavg()
    figures = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            **report.machine(),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in load_after],
        },
        "options": {
            "calls": args.calls,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "gunicorn_workers": args.workers,
            "endpoints": chosen,
            "load_generator": "threads and http.client, on the same machine as the server",
        },
        "data_set": {**dataset, "shape": asdict(shape)},
        "load": results,
        "query_counts": query_counts,
    }
    load_text = report.load_table(results)  # adds each page's ratio to the bare view
    path = report.write_json(figures)

    machine = figures["machine"]
    print()
    print(
        f"Machine : {machine['cores']} cœurs ({machine['cpu'] or '?'}), Python {machine['python']}, "
        f"Django {machine['django']}, PostgreSQL {machine['postgresql']}, "
        f"gunicorn {machine['gunicorn']} ({args.workers} workers sync) ; {figures['date']}"
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
    print(
        f"Charge : {args.concurrency} clients pendant {args.seconds:g} s par page "
        "(générateur sur la même machine). Erreurs = réponses autres que 200 ou échecs."
    )
    print()
    print(load_text)
    print()
    print("Requêtes SQL par page (appel le plus chargé pour les pages d'un appel) :")
    print(report.counts_table(query_counts))
    print()
    print(
        f"Résultats : {path.relative_to(bench_env.BASE_DIR)}  (durée totale {time.perf_counter() - started:.0f} s)"
    )

    failed = any(r["errors"] for r in results) or any(
        query_counts["small"]["pages"][name]["queries"]
        != query_counts["large"]["pages"][name]["queries"]
        for name in query_counts["small"]["pages"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
