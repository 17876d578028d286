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


def table(headers: list[str], rows: list[list], align: str) -> str:
    """``align``: one of "<" or ">" per column."""
    cells = [headers, *[[_text(value) for value in row] for row in rows]]
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


def load_table(results: list[dict]) -> str:
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
                float(r["p50_ms"]),
                float(r["p90_ms"]),
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
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "erreurs",
            "/bare",
            "Kio",
        ],
        rows,
        "<<>>>>>>>>",
    )


def counts_table(counts: dict) -> str:
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
        f"{small['size']['calls']} appel, {small['size']['lots_of_call']} lot",
        f"{large['size']['calls']} appels, {large['size']['lots']} lots",
        "constant",
    ]
    return table(header, rows, "<>><")


def write_json(figures: dict) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUTPUT_DIR / f"bench-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return path
