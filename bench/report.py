"""The figures as a table on stdout and as JSON under ``var/bench/``."""

import json
import math
import os
import platform
from datetime import datetime
from pathlib import Path

from bench.env import OUTPUT_DIR


def machine() -> dict:
    from django import get_version
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        from importlib.metadata import version

        gunicorn = version("gunicorn")
    except Exception:
        gunicorn = ""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": get_version(),
        "gunicorn": gunicorn,
        "postgresql": postgresql,
    }


def table(headers: list[str], rows: list[list], align: str, *, markdown: bool = False) -> str:
    """``align``: one of "<" or ">" per column. Aligned text for the terminal, or a
    Markdown table (the summary under var/bench/)."""
    cells = [headers, *[[_text(value) for value in row] for row in rows]]
    if markdown:
        rule = ["---:" if a == ">" else "---" for a in align]
        return "\n".join(
            "| " + " | ".join(value.replace("|", "\\|") for value in row) + " |"
            for row in [cells[0], rule, *cells[1:]]
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(f"{value:{a}{w}}" for value, a, w in zip(row, align, widths, strict=True))
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _text(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:,.1f}".replace(",", " ")
    return str(value)


def load_table(results: list[dict], *, markdown: bool = False) -> str:
    bare = next((r for r in results if r["endpoint"] == "bare"), None)
    rows = []
    for r in results:
        ratio = r["requests_per_second"] / bare["requests_per_second"] if bare else math.nan
        r["ratio_to_bare"] = round(ratio, 3)
        rows.append(
            [
                r["endpoint"],
                r["path"],
                r["requests"],
                float(r["requests_per_second"]),
                float(r.get("cpu_ms_per_request", math.nan)),
                float(r["p50_ms"]),
                float(r.get("p95_ms", math.nan)),
                float(r["p99_ms"]),
                r["errors"],
                f"{ratio:.2f}" if bare else "–",
                f"{r['mean_body_bytes'] / 1024:.1f}",
            ]
        )
    return table(
        [
            "page",
            "chemin",
            "requêtes",
            "req/s",
            "ms CPU/req",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "erreurs",
            "/bare",
            "Kio",
        ],
        rows,
        "<<>>>>>>>>>",
        markdown=markdown,
    )


def counts_table(counts: dict, *, markdown: bool = False) -> str:
    small, large = counts["small"], counts["large"]
    rows = [
        [
            name,
            small["pages"][name]["queries"],
            large["pages"][name]["queries"],
            "oui" if small["pages"][name]["queries"] == large["pages"][name]["queries"] else "NON",
        ]
        for name in small["pages"]
    ]
    header = [
        "page",
        f"{small['size']['calls']} appels, {small['size']['lots_of_call']} lot, "
        f"{small['size']['dossiers']} dossier",
        f"{large['size']['calls']} appels, {large['size']['lots']} lots, "
        f"{large['size']['dossiers']} dossiers",
        "constant",
    ]
    return table(header, rows, "<>><", markdown=markdown)


def rush_table(rush: dict, *, markdown: bool = False) -> str:
    """Latency seen by the candidates, then the time in the worker alone (the rest is
    the wait for a free worker)."""
    rows = [
        [
            step["step"],
            step["requests"],
            float(step["p50_ms"]),
            float(step.get("p95_ms", math.nan)),
            float(step["p99_ms"]),
            float(step["max_ms"]),
            step["errors"],
            float(step["worker"].get("p50_ms", math.nan)),
            float(step["worker"].get("p95_ms", math.nan)),
            float(step["worker"].get("p99_ms", math.nan)),
            float(step["worker"].get("total_s", math.nan)),
        ]
        for step in rush["steps"]
    ]
    headers = [
        "étape",
        "requêtes",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "erreurs",
        "worker p50 ms",
        "worker p95 ms",
        "worker p99 ms",
        "worker total s",
    ]
    return table(headers, rows, "<>>>>>>>>>>", markdown=markdown)


def rush_summary(rush: dict, checks: dict) -> str:
    yes = {True: "oui", False: "NON"}
    lines = [
        f"{rush['candidates']} candidats en {rush['seconds']:.1f} s ; {rush['errors']} erreur(s).",
        f"Envois : {rush['uploads']} fichiers, {rush['upload_megabytes']:.1f} Mio en "
        f"{rush['upload_seconds']:.1f} s : {rush['uploads_per_second']:.1f} fichiers/s, "
        f"{rush['upload_megabytes_per_second']:.1f} Mio/s.",
        f"Dépôts : {rush['submissions']} partis ensemble, tous traités en "
        f"{rush['submit_seconds']:.2f} s : {rush['submissions_per_second']:.1f} dépôts/s.",
        "Vérification en base : "
        f"{checks['submitted']}/{checks['dossiers']} dossiers déposés, "
        f"{checks['with_exactly_one_receipt']} avec exactement un accusé ; "
        f"{checks['receipts']} accusés, numéros uniques {yes[checks['receipt_numbers_unique']]}, "
        f"consécutifs {yes[checks['receipt_sequences_consecutive']]} ; "
        f"empreintes SHA-256 conformes {checks['files_matching_sha256']}/"
        f"{checks['files_expected']} (en base), {checks['files_on_disk_matching_sha256']}/"
        f"{checks['files_expected']} (fichiers relus) ; "
        f"{checks['manifests_matching_files']} accusés listant exactement ces fichiers ; "
        f"{checks['receipt_emails_queued']} courriels d'accusé en file. "
        f"Résultat : {'aucune erreur, aucun dossier perdu' if checks['ok'] else 'ÉCHEC'}.",
    ]
    lines += [f"  ! {failure}" for failure in rush["failures"] + checks["problems"]]
    return "\n".join(lines)


def deadline_table(runs: list[dict], *, markdown: bool = False) -> str:
    headers = [
        "panne",
        "tentés",
        "acceptés",
        "refusés à tort",
        "sans réponse",
        "tardifs acceptés",
        "perdus",
        "courriels en double",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ]
    rows = []
    notes = []
    for run in runs:
        if "skipped" in run:
            notes.append(f"{run['fault']} : non mesuré ({run['skipped']})")
            continue
        if "failed" in run:
            notes.append(f"{run['fault']} : ÉCHEC, non mesuré ({run['failed']})")
            continue
        rows.append(
            [
                run["fault"],
                run["attempted"],
                run["accepted"],
                run["refused_although_on_time"],
                run["unanswered_on_time"],
                f"{run['accepted_although_late']}/{run['attempted_late']}",
                run["lost"],
                run["duplicate_receipt_emails"],
                run["p50_ms"],
                run["p95_ms"],
                run["p99_ms"],
            ]
        )
        notes.append(
            f"{run['fault']} : {run['gunicorn']} ; réponses {run['answers']}"
            + (f" ; {run['fault_note']}" if run["fault_note"] else "")
        )
    align = "<" + ">" * (len(headers) - 1)
    if markdown:
        return "\n".join([table(headers, rows, align, markdown=True), "", *_items(notes)])
    return "\n".join([table(headers, rows, align), *notes])


def _items(lines: list[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def slow_clients_table(figures: dict, *, markdown: bool = False) -> str:
    """The readers' latency, through nginx then straight to gunicorn (bench/slow_clients.py);
    a failed read counts with the time it took to fail."""
    headers = ["route", "lectures", "200", "erreurs", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    headers.append("envois vus par gunicorn")
    rows = [
        [
            "via nginx" if run["route"] == "nginx" else "gunicorn direct",
            run["requests"],
            run["answered_200"],
            run["errors"],
            float(run["p50_ms"]),
            float(run["p95_ms"]),
            float(run.get("p99_ms", math.nan)),
            float(run["max_ms"]),
            run["uploads_answered_by_gunicorn"],
        ]
        for run in figures["runs"]
    ]
    return table(headers, rows, "<>>>>>>>>", markdown=markdown)


def memory_table(memory: dict, *, markdown: bool = False) -> str:
    rows = [
        [
            worker["pid"],
            float(worker["baseline_mib"]),
            float(worker["peak_mib"]),
            float(worker["increase_mib"]),
            float(worker["hwm_before_mib"]),
            float(worker["hwm_after_mib"]),
        ]
        for worker in memory["workers"]
    ]
    headers = [
        "worker",
        "RSS avant Mio",
        "pic Mio",
        "hausse Mio",
        "VmHWM avant Mio",
        "VmHWM après Mio",
    ]
    return table(headers, rows, ">>>>>>", markdown=markdown)


def write_json(figures: dict) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUTPUT_DIR / f"bench-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return path


def ranking_counts_table(counts: dict, small: int, large: int, *, markdown: bool = False) -> str:
    rows = [
        [
            name,
            row["small"],
            row["large"],
            "oui" if row["small"] == row["large"] else "NON",
            float(row["large_ms"]),
            float(row["large_kib"]),
        ]
        for name, row in counts.items()
    ]
    headers = [
        "page",
        f"lot de {small}",
        f"lot de {large}",
        "constant",
        f"ms ({large})",
        f"Kio ({large})",
    ]
    return table(headers, rows, "<>><>>", markdown=markdown)


def sweep_table(sweep: dict, *, markdown: bool = False) -> str:
    rows = []
    for size in sweep["sizes"]:
        first, second, traced = size["first"], size["second"], size["traced"]
        rows.append(
            [
                size["dossiers"],
                size["agreements"],
                first["created"],
                float(first["seconds"]),
                float(first["cpu_seconds"]),
                first["queries"],
                float(traced["tracemalloc_peak_mib"]),
                float(first["rss_increase_mib"]),
                second["created"],
                float(second["seconds"]),
                second["queries"],
            ]
        )
    headers = [
        "dossiers",
        "conventions",
        "rappels",
        "durée s",
        "CPU s",
        "requêtes",
        "pic Python Mio",
        "hausse RSS Mio",
        "2e : rappels",
        "2e : durée s",
        "2e : requêtes",
    ]
    return table(headers, rows, ">>>>>>>>>>>", markdown=markdown)


def sweep_kinds_table(size: dict, *, markdown: bool = False) -> str:
    rows = [
        [
            name,
            kind["due"],
            kind["created"],
            kind["queries_finding"],
            kind["queries_storing"],
            float(kind["find_s"]),
            float(kind["render_s"]),
            float(kind["store_s"]),
            float(kind["dispatch_s"]),
        ]
        for name, kind in size["first"]["kinds"].items()
    ]
    headers = [
        "sorte",
        "échéances",
        "rappels",
        "req. recherche",
        "req. écriture",
        "recherche s",
        "rendu s",
        "écriture s",
        "envoi s",
    ]
    return table(headers, rows, "<>>>>>>>>", markdown=markdown)


# --- The Markdown summary ----------------------------------------------------------------


def _loads(values) -> str:
    return " ".join(f"{value:.1f}" for value in values)


def markdown(figures: dict) -> str:
    """The tables of a run (the JSON of ``write_json``) as a Markdown page: every
    section the run has, the same tables as on stdout."""
    machine = figures["machine"]
    options = figures["options"]
    lines = [
        f"# Bench du {figures['date']}",
        "",
        f"- Machine : {machine['cores']} cœurs ({machine.get('cpu') or '?'}), Python "
        f"{machine['python']}, Django {machine['django']}, PostgreSQL {machine['postgresql']}, "
        f"gunicorn {machine['gunicorn']}",
        f"- Charge moyenne (1, 5, 15 min) : au départ {_loads(machine['load_average_before'])}, "
        f"à la fin {_loads(machine['load_average_after'])}",
        f"- Base, courtier et ports : {figures.get('where', '?')}",
        f"- Pages : {', '.join(options['endpoints']) or 'aucune'} ; scénarios : "
        f"{', '.join(options['scenarios']) or 'aucun'}",
    ]

    def section(title: str, *parts: str) -> None:
        lines.extend(["", f"## {title}"])
        for part in parts:
            lines.extend(["", part])

    if figures.get("load"):
        section(
            "Pages sous charge",
            f"{options['concurrency']} clients pendant {options['seconds']:g} s par page, "
            f"{options['gunicorn_workers']} workers sync ; latences des réponses 200.",
            load_table(figures["load"], markdown=True),
        )
    if figures.get("query_counts"):
        section("Requêtes SQL par page", counts_table(figures["query_counts"], markdown=True))
    rush = figures.get("rush")
    if rush:
        summary = rush_summary(rush, rush["verification"]).splitlines()
        section(
            f"Rush : {rush['candidates']} candidats",
            f"{options['rush_gunicorn_workers']} workers sync ; latences vues des candidats, "
            "puis temps passé dans le worker seul (journal d'accès de gunicorn).",
            rush_table(rush, markdown=True),
            "\n".join(_items([line.strip().removeprefix("! ") for line in summary])),
        )
    deadline = figures.get("deadline")
    if deadline:
        if "runs" in deadline:
            section(
                f"Échéance : {deadline['candidates']} candidats dans les dernières secondes",
                deadline_table(deadline["runs"], markdown=True),
            )
        else:
            section("Échéance", f"Non mesurée : {deadline.get('skipped', '?')}")
    big = figures.get("big_upload")
    if big:
        section(
            f"Mémoire pendant l'envoi d'un fichier de {big['file_megabytes']:.0f} Mio",
            memory_table(big, markdown=True),
            f"Hausse maximale : {big['peak_increase_mib']:.1f} Mio ; fichier enregistré intact : "
            + ("oui" if big["stored"] else "NON"),
        )
    ranking = figures.get("ranking")
    if ranking:
        from bench.ranking import SMALL_DOSSIERS

        section(
            f"Classement d'un lot de {options['ranking_dossiers']} dossiers",
            ranking_counts_table(
                ranking["query_counts"],
                SMALL_DOSSIERS,
                options["ranking_dossiers"],
                markdown=True,
            ),
            load_table(ranking["load"], markdown=True),
        )
    sweep = figures.get("sweep")
    if sweep:
        section(
            f"Balayage des rappels à {sweep['now']}",
            sweep_table(sweep, markdown=True),
            sweep_kinds_table(sweep["sizes"][-1], markdown=True),
        )
    slow = figures.get("slow_clients")
    if slow:
        if "skipped" in slow:
            section("Clients lents", f"Non mesuré : {slow['skipped']}")
        else:
            section(
                f"Clients lents : {slow['clients']} envois lents, {slow['readers']} lecteurs",
                f"gunicorn : {slow['gunicorn']} ; p95 via nginx sous "
                f"{slow['p95_limit_ms']:.0f} ms exigé.",
                slow_clients_table(slow, markdown=True),
            )
    archive = figures.get("archive")
    if archive:
        section(
            f"Archive d'un appel de {archive['dossiers']} dossiers",
            "\n".join(
                _items(
                    [
                        f"{archive['status']} en {archive['seconds']:.1f} s, ZIP de "
                        f"{(archive['zip_bytes'] or 0) / 1024 / 1024:.1f} Mio",
                        f"mémoire du worker : {archive['worker_rss_idle_mib']} Mio au repos, "
                        f"VmHWM {archive['worker_vmhwm_mib']} Mio, "
                        f"+{archive['worker_growth_mib']} Mio pendant la construction",
                    ]
                )
            ),
        )
    topology = figures.get("topology")
    if topology:
        from bench import topology as topology_module

        section(
            f"Topologie à deux instances : rush de {topology['candidates']} candidats",
            topology_module.heading(topology),
            rush_table(topology, markdown=True),
            "\n".join(
                _items(
                    [line.strip().removeprefix("! ") for line in topology_module.summary(topology)]
                )
            ),
        )
    return "\n".join(lines) + "\n"


def write_markdown(figures: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(figures))
    return path
