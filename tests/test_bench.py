"""The bench's command line, its confinement (database, broker, ports) and its Markdown
summary, on small figures: the bench itself is not run here."""

import re
import socket
from pathlib import Path

import pytest

from bench import env as bench_env
from bench import load, report, rush, server
from bench.__main__ import ENDPOINTS, OPT_IN, SCENARIOS, failed, parse_args

BENCH = Path(__file__).resolve().parent.parent / "bench"


def help_text(capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_the_help_documents_every_environment_variable_the_bench_reads(capsys):
    text = help_text(capsys)
    read = set()
    for path in BENCH.glob("*.py"):
        read |= set(re.findall(r"\bBENCH_[A-Z_]+\b", path.read_text()))

    assert {"BENCH_DATABASE_URL", "BENCH_BROKER_URL", "BENCH_PORTS"} <= read
    documented = {name for name, _, _ in bench_env.VARIABLES}
    assert read <= documented
    for name, _, default in bench_env.VARIABLES:
        assert f"{name} : " in text
        assert " ".join(default.split()) in " ".join(text.split())


def test_the_help_names_the_full_run_and_its_markdown_summary(capsys):
    text = " ".join(help_text(capsys).split())

    assert "--full" in text
    assert "var/bench/bench-<date>.md" in text
    assert "p50, p95 et p99" in text


def test_full_runs_every_page_and_scenario_at_full_size():
    args = parse_args(["--full"])

    assert set(args.only) == {*ENDPOINTS, *SCENARIOS}
    assert set(OPT_IN) <= set(args.only)
    assert args.rush_candidates == 200
    assert args.ranking_dossiers == 1000
    assert (100_000, 10_000) in args.sweep_sizes


def test_without_full_the_opt_in_scenarios_wait_to_be_named():
    args = parse_args([])

    assert not set(OPT_IN) & set(args.only)
    assert args.rush_candidates == 50
    assert parse_args(["--full", "--rush-candidates", "300"]).rush_candidates == 300
    assert "deadline" in parse_args(["--only", "rush"]).only


def test_logins_at_the_instant_of_the_deposits_are_asked_for(capsys):
    assert parse_args([]).rush_logins == 0
    assert parse_args(["--rush-logins", "200"]).rush_logins == 200
    with pytest.raises(SystemExit):
        parse_args(["--rush-logins", "-1"])
    assert "--rush-logins au moins 0" in capsys.readouterr().err


def test_full_and_only_together_are_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--full", "--only", "rush"])

    assert stopped.value.code == 2
    assert "--full lance tout : sans --only" in capsys.readouterr().err


def test_a_port_range_is_read_from_bench_ports():
    assert bench_env.parse_ports("") is None
    assert bench_env.parse_ports("20000-20999") == range(20000, 21000)
    assert bench_env.parse_ports("20500") == range(20500, 20501)
    for wrong in ("20000:20999", "30000-20000", "80-90", "a-b"):
        with pytest.raises(ValueError, match="BENCH_PORTS"):
            bench_env.parse_ports(wrong)


def test_free_ports_stay_in_the_range_and_are_handed_out_once():
    ports = range(41_200, 41_260)

    first, second = server.free_port(ports), server.free_port(ports)

    assert first in ports and second in ports
    assert first != second


def test_a_port_in_use_is_never_handed_out():
    with socket.socket() as taken:
        taken.bind((server.HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(RuntimeError, match="aucun port libre"):
            server.free_port(range(port, port + 1))


def test_passwords_in_urls_are_masked():
    assert (
        bench_env.masked("postgres://bench:s3cr%40t@db.example:5432/aap_bench")
        == "postgres://bench:***@db.example:5432/aap_bench"
    )
    assert bench_env.masked("redis://:s3cret@127.0.0.1:6390/8") == "redis://:***@127.0.0.1:6390/8"
    assert bench_env.masked("redis://127.0.0.1:6390/8") == "redis://127.0.0.1:6390/8"


# --- The Markdown summary ---------------------------------------------------------------


def load_result(name: str, path: str, latencies: list[float]) -> dict:
    result = load.Result(name, path, seconds=2.0, latencies=latencies)
    result.statuses[200] = len(latencies)
    result.body_bytes = 2048 * len(latencies)
    return result.as_dict()


@pytest.fixture
def figures(tmp_path):
    access_log = tmp_path / "access.log"
    access_log.write_text("login 302 20000\nlogin 302 30000\nsubmit 200 150000\n- 200 1000\n")
    in_worker = server.service_times(access_log)
    steps = []
    for name, latencies in (("login", [0.05, 0.08, 0.4]), ("submit", [0.2, 0.3, 0.9])):
        step = rush.Step(name, latencies=latencies).as_dict()
        step["worker"] = in_worker.get(name, {})
        steps.append(step)
    rush_figures = rush.RushResult(
        candidates=3,
        seconds=4.2,
        steps=steps,
        uploads=15,
        upload_bytes=15 * 1024 * 1024,
        upload_seconds=1.5,
        submissions=3,
        submit_seconds=0.9,
        errors=0,
        failures=[],
    ).as_dict()
    rush_figures["verification"] = {
        "dossiers": 3,
        "submitted": 3,
        "with_exactly_one_receipt": 3,
        "receipts": 3,
        "receipt_numbers_unique": True,
        "receipt_sequences_consecutive": True,
        "files_matching_sha256": 15,
        "files_expected": 15,
        "files_on_disk_matching_sha256": 15,
        "manifests_matching_files": 3,
        "receipt_emails_queued": 3,
        "problems": [],
        "ok": True,
    }
    return {
        "date": "2026-12-06T11:00:00+01:00",
        "where": "base postgres://bench:***@127.0.0.1:5432/aap_bench ; courtier "
        "redis://127.0.0.1:6390/14 ; ports 20000-20999",
        "machine": {
            "cores": 2,
            "cpu": "Test CPU",
            "python": "3.11.7",
            "django": "5.2",
            "gunicorn": "27.0.1",
            "postgresql": "15.20",
            "load_average_before": [0.5, 0.4, 0.3],
            "load_average_after": [1.5, 0.9, 0.5],
        },
        "options": {
            "endpoints": ["bare", "call_list"],
            "scenarios": ["rush", "deadline", "slow_clients"],
            "concurrency": 8,
            "seconds": 2.0,
            "gunicorn_workers": 2,
            "rush_gunicorn_workers": 4,
        },
        "load": [
            load_result("bare", "/bench/bare/", [0.001, 0.002, 0.003, 0.004]),
            load_result("call_list", "/appels/", [0.010, 0.020, 0.030, 0.040]),
        ],
        "query_counts": None,
        "rush": rush_figures,
        "deadline": {
            "candidates": 200,
            "runs": [
                {
                    "fault": "none",
                    "attempted": 200,
                    "accepted": 190,
                    "refused_although_on_time": 0,
                    "unanswered_on_time": 0,
                    "accepted_although_late": 0,
                    "attempted_late": 10,
                    "lost": 0,
                    "duplicate_receipt_emails": 0,
                    "p50_ms": 310.0,
                    "p95_ms": 870.0,
                    "p99_ms": 1210.0,
                    "gunicorn": "5 workers sync",
                    "answers": {"200": 200},
                    "fault_note": "",
                },
                {"fault": "postgres", "skipped": "pg_ctlcluster absent"},
            ],
        },
        "slow_clients": {
            "gunicorn": "5 workers sync",
            "clients": 20,
            "readers": 4,
            "p95_limit_ms": 1000.0,
            "runs": [
                {
                    "route": "nginx",
                    "requests": 1782,
                    "answered_200": 1782,
                    "errors": 0,
                    "p50_ms": 42.0,
                    "p95_ms": 75.0,
                    "p99_ms": 130.0,
                    "max_ms": 266.0,
                    "uploads_answered_by_gunicorn": 0,
                    "slow_clients_cut_off": 0,
                    "documents_stored": 0,
                }
            ],
        },
    }


def latency_headers(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|") and "p50 ms" in line]


def test_the_markdown_summary_holds_every_table_with_p50_p95_and_p99(figures, tmp_path):
    path = report.write_markdown(figures, tmp_path / "bench" / "bench-20261206-110000.md")

    text = path.read_text()
    assert text.startswith("# Bench du 2026-12-06T11:00:00+01:00\n")
    assert "redis://127.0.0.1:6390/14" in text and "bench:***@" in text
    for title in ("## Pages sous charge", "## Rush : 3 candidats", "## Échéance", "## Clients"):
        assert title in text
    headers = latency_headers(text)
    assert len(headers) == 4  # pages, rush, deadline, slow clients
    for header in headers:
        assert re.search(r"p50 ms \| p95 ms \| p99 ms", header), header
    assert "| worker p50 ms | worker p95 ms | worker p99 ms |" in headers[1]
    # The rush's rows: the candidates' p95 and the worker's, from the access log.
    login = next(line for line in text.splitlines() if line.startswith("| login |"))
    assert login.split(" | ")[1:6] == ["3", "80.0", "400.0", "400.0", "400.0"]
    assert "| none | 200 | 190 | 0 | 0 | 0/10 | 0 | 0 | 310.0 | 870.0 | 1 210.0 |" in text
    assert "- postgres : non mesuré (pg_ctlcluster absent)" in text
    assert "aucune erreur, aucun dossier perdu" in text


def test_markdown_tables_are_well_formed(figures):
    text = report.markdown(figures)

    blocks = re.findall(r"(?:^\|.*\|\n)+", text, flags=re.MULTILINE)
    assert len(blocks) == 4
    for block in blocks:
        rows = block.splitlines()
        assert set(rows[1].replace(" ", "").strip("|").split("|")) <= {"---", "---:"}
        assert len({row.count(" | ") for row in rows}) == 1  # as many cells on every row


def test_every_terminal_latency_table_shows_p50_p95_and_p99(figures):
    tables = [
        report.load_table(figures["load"]),
        report.rush_table(figures["rush"]),
        report.deadline_table(figures["deadline"]["runs"]),
        report.slow_clients_table(figures["slow_clients"]),
    ]
    for text in tables:
        assert re.search(r"p50 ms\s+p95 ms\s+p99 ms", text.splitlines()[0]), text


def test_a_deadline_run_that_could_not_be_measured_is_shown_and_fails_the_bench(figures):
    assert not failed(figures)

    figures["deadline"]["runs"].append(
        {"fault": "redis", "failed": "préparation trop lente pour le délai du bench (LEAD)"}
    )

    assert failed(figures)
    text = report.markdown(figures)
    assert (
        "- redis : ÉCHEC, non mesuré (préparation trop lente pour le délai du bench (LEAD))" in text
    )
    assert "redis : ÉCHEC" in report.deadline_table(figures["deadline"]["runs"])
