"""One reminder sweep (``core.reminders.run_sweep``) over a large data set (issue 6).

Each size of data set (by default 10,000 dossiers and 1,000 agreements, then 100,000 and
10,000) lives in its own PostgreSQL database, ``<bench database>_sweep_<dossiers>_<agreements>``,
kept between runs (``bench.sweep_data``). For each size, three child processes with the
bench's settings (no e-mail leaves: dummy backend; tasks queued in Redis database 14 and
flushed afterwards):

1. ``generate``: the data set, unless the database already holds it;
2. ``run --forget``: the reminders and the outbox are emptied, then one sweep at
   ``sweep_data.NOW``: wall and CPU time, SQL statements (``connection.execute_wrapper``;
   a server-side cursor counts once, not per fetch), the peak of Python allocations
   (tracemalloc) and of the resident memory (``VmHWM`` against ``VmRSS`` before), the
   reminders created; with, per kind, the rows it yielded, its reminders, its statements
   and the time spent finding them, rendering e-mails, storing them and handing them to
   the broker;
3. ``run``: the same sweep a second time at the same instant: it must create nothing.

Each run is a fresh process, so that its memory high-water mark is its own.
``python -m bench.sweep generate|run --dossiers N --agreements M`` is the child's entry
point; it prints its figures as one JSON line.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bench import env as bench_env

SIZES = ((10_000, 1_000), (100_000, 10_000))
# A Wednesday morning in Paris, after the 8:00 milestones: every sweep runs at this instant,
# and the data set's dates are placed around it.
NOW = dt.datetime(2031, 3, 12, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
MARK = "BENCH-SWEEP-JSON "


def parse_sizes(value: str) -> list[tuple[int, int]]:
    """ "10000:1000,100000:10000" → [(10000, 1000), (100000, 10000)]."""
    sizes = []
    for part in value.split(","):
        dossiers, _, agreements = part.strip().partition(":")
        sizes.append((int(dossiers), int(agreements or 0)))
    if not sizes or any(d < 100 or a < 0 for d, a in sizes):
        raise ValueError(value)
    return sizes


def database_url(dossiers: int, agreements: int, base: str = bench_env.DATABASE_URL) -> str:
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "aap_bench"
    return urlunsplit(parts._replace(path=f"/{name}_sweep_{dossiers}_{agreements}"))


def _child(command: str, dossiers: int, agreements: int, environment: dict, *extra) -> dict:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "bench.sweep", command),
            *("--dossiers", str(dossiers), "--agreements", str(agreements)),
            *extra,
        ],
        cwd=bench_env.BASE_DIR,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARK)]
    if result.returncode or not lines:
        sys.exit(
            f"bench.sweep {command} a échoué :\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len(MARK) :])


def scenario(sizes, *, regenerate: bool = False, progress=print) -> dict:
    """Every size in turn: data set, first sweep, second sweep."""
    results = []
    flushed = 0
    for dossiers, agreements in sizes:
        url = database_url(dossiers, agreements)
        environment = bench_env.environment(url)
        began = time.perf_counter()
        if bench_env.ensure_database(url):
            progress(f"  base {urlsplit(url).path.lstrip('/')} créée")
        bench_env.migrate(environment)
        extra = ("--regenerate",) if regenerate else ()
        data_set = _child("generate", dossiers, agreements, environment, *extra)
        progress(
            f"  {dossiers} dossiers, {agreements} conventions : données "
            + (f"générées en {data_set['seconds']} s" if data_set["generated"] else "réutilisées")
            + f" ({time.perf_counter() - began:.0f} s avec la migration)"
        )
        first = _child("run", dossiers, agreements, environment, "--forget")
        flushed += bench_env.flush_broker()
        progress(
            f"  premier balayage : {first['created']} rappels en {first['seconds']:.1f} s, "
            f"{first['queries']} requêtes"
        )
        second = _child("run", dossiers, agreements, environment)
        flushed += bench_env.flush_broker()
        progress(
            f"  second balayage : {second['created']} rappel(s) en {second['seconds']:.1f} s, "
            f"{second['queries']} requêtes"
        )
        traced = _child("run", dossiers, agreements, environment, "--forget", "--tracemalloc")
        flushed += bench_env.flush_broker()
        progress(
            f"  balayage refait sous tracemalloc : pic {traced['tracemalloc_peak_mib']} Mio "
            f"({traced['seconds']:.1f} s)"
        )
        results.append(
            {
                "dossiers": dossiers,
                "agreements": agreements,
                "database": urlsplit(url).path.lstrip("/"),
                "data_set": data_set,
                "first": first,
                "second": second,
                "traced": traced,
            }
        )
    return {
        "now": NOW.isoformat(),
        "sizes": results,
        "broker_tasks_flushed": flushed,
    }


def failures(figures: dict) -> list[str]:
    """What the scenario must show: nothing created twice, memory and statements that
    do not follow the data (at most twice as much for ten times the data)."""
    problems = []
    sizes = figures["sizes"]
    for size in sizes:
        if size["second"]["created"]:
            problems.append(f"{size['dossiers']} dossiers : le second balayage a créé des rappels")
        if not size["first"]["created"]:
            problems.append(f"{size['dossiers']} dossiers : le premier balayage n'a rien créé")
        if size["traced"]["created"] != size["first"]["created"]:
            problems.append(f"{size['dossiers']} dossiers : le balayage refait diffère du premier")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        growth = large["dossiers"] / small["dossiers"]
        for run, key in (("traced", "tracemalloc_peak_mib"), ("first", "rss_increase_mib")):
            a, b = small[run][key], large[run][key]
            if growth >= 4 and b > 2 * max(a, 1.0):
                problems.append(f"{key} : {a} → {b} Mio pour {growth:g} fois plus de données")
    return problems


# --- In the child process --------------------------------------------------------------------


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Probe:
    """Counts and times each kind's part of the sweep without changing it: wraps each
    kind's ``due`` generator, and ``_store``, ``EmailRenderer.render`` and ``dispatch_emails`` as
    ``core.reminders`` calls them; statements are counted by ``execute_wrapper``."""

    def __init__(self, reminders):
        self.reminders = reminders
        self.kind = "—"
        self.finding = False
        self.kinds: dict[str, dict] = {}
        self.queries = 0

    def stats(self, name: str) -> dict:
        return self.kinds.setdefault(
            name,
            {
                "due": 0,
                "created": 0,
                "batches": 0,
                "queries_finding": 0,
                "queries_storing": 0,
                "find_s": 0.0,
                "render_s": 0.0,
                "store_s": 0.0,
                "dispatch_s": 0.0,
                "dispatched": 0,
            },
        )

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        stats = self.stats(self.kind)
        stats["queries_finding" if self.finding else "queries_storing"] += 1
        return execute(sql, params, many, context)

    def install(self) -> None:
        module = self.reminders
        for kind in module.kinds():
            kind.due = self._due(kind)
        store, render, dispatch = module._store, module.EmailRenderer.render, module.dispatch_emails

        def timed_store(batch):
            began = time.perf_counter()
            created = store(batch)
            stats = self.stats(self.kind)
            stats["store_s"] += time.perf_counter() - began
            stats["batches"] += 1
            stats["created"] += len(created)
            return created

        def timed_render(renderer, template, context):
            began = time.perf_counter()
            try:
                return render(renderer, template, context)
            finally:
                self.stats(self.kind)["render_s"] += time.perf_counter() - began

        def timed_dispatch(email_ids):
            began = time.perf_counter()
            try:
                return dispatch(email_ids)
            finally:
                stats = self.stats(self.kind)
                stats["dispatch_s"] += time.perf_counter() - began
                stats["dispatched"] += len(email_ids)

        module._store, module.EmailRenderer.render, module.dispatch_emails = (
            timed_store,
            timed_render,
            timed_dispatch,
        )

    def _due(self, kind):
        original = kind.due

        def due(now):
            generator = original(now)
            stats = self.stats(kind.name)
            while True:
                self.kind, self.finding = kind.name, True
                began = time.perf_counter()
                try:
                    item = next(generator)
                except StopIteration:
                    return
                finally:
                    stats["find_s"] += time.perf_counter() - began
                    self.finding = False
                stats["due"] += 1
                yield item

        return due

    def per_kind(self) -> dict:
        result = {}
        for name, stats in self.kinds.items():
            # Rendering and dispatching happen inside _store: shown apart from it.
            store_only = stats["store_s"] - stats["render_s"] - stats["dispatch_s"]
            result[name] = {
                **{key: value for key, value in stats.items() if not key.endswith("_s")},
                "find_s": round(stats["find_s"], 3),
                "render_s": round(stats["render_s"], 3),
                "store_s": round(store_only, 3),
                "dispatch_s": round(stats["dispatch_s"], 3),
            }
        return result


def measure(*, forget: bool, trace: bool) -> dict:
    import tracemalloc

    from django.db import connection
    from django.db.models import Count
    from django.template.loader import get_template

    from bench import sweep_data
    from core import reminders
    from core.models import OutgoingEmail, Reminder

    if forget:
        sweep_data.forget_reminders()
    # What a long-lived worker has done once already: templates compiled, connection open.
    for folder in (bench_env.BASE_DIR / "templates" / "emails").glob("reminder_*"):
        for name, using in (("subject.txt", "text"), ("body.txt", "text"), ("body.html", None)):
            get_template(f"emails/{folder.name}/{name}", using=using)
    connection.ensure_connection()
    before = Reminder.objects.count()

    probe = Probe(reminders)
    probe.install()
    rss_before, hwm_before = _status_kib("VmRSS"), _status_kib("VmHWM")
    peak = None
    with connection.execute_wrapper(probe):
        if trace:
            tracemalloc.start()
        began, cpu = time.perf_counter(), time.process_time()
        created = reminders.run_sweep(now=NOW)
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    rss_after, hwm_after = _status_kib("VmRSS"), _status_kib("VmHWM")

    by_kind = dict(Reminder.objects.values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return {
        "created": created,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "queries": probe.queries,
        "tracemalloc_peak_mib": None if peak is None else round(peak / 2**20, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_after_mib": round(rss_after / 1024, 1),
        "hwm_before_mib": round(hwm_before / 1024, 1),
        "hwm_after_mib": round(hwm_after / 1024, 1),
        "rss_increase_mib": round((hwm_after - rss_before) / 1024, 1),
        "reminders_before": before,
        "reminders_after": sum(by_kind.values()),
        "outbox_after": OutgoingEmail.objects.count(),
        "reminders_by_kind": by_kind,
        "kinds": probe.per_kind(),
    }


def child_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep")
    parser.add_argument("command", choices=["generate", "run"])
    parser.add_argument("--dossiers", type=int, required=True)
    parser.add_argument("--agreements", type=int, required=True)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--forget", action="store_true", help="vider rappels et courriels avant")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="suivre les allocations (4 fois plus lent)"
    )
    args = parser.parse_args(argv)
    if "DATABASE_URL" not in os.environ:
        os.environ.update(bench_env.environment(database_url(args.dossiers, args.agreements)))

    import django

    django.setup()
    from bench import sweep_data

    if args.command == "generate":
        shape = sweep_data.Shape(dossiers=args.dossiers, agreements=args.agreements)
        figures = sweep_data.ensure(shape, regenerate=args.regenerate)
    else:
        figures = measure(forget=args.forget, trace=args.tracemalloc)
    print(MARK + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
