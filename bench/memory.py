"""Memory of the web workers while one large file is uploaded.

The upload view streams the body to a temporary file and hashes it on the way
(``core.uploads.HashingUploadHandler``): a worker's resident memory should barely move
whatever the size of the file. A thread reads ``VmRSS`` in ``/proc/<pid>/status`` of
every gunicorn worker every 20 ms, before, during and after the upload; the figure is
the largest rise over each worker's own baseline. ``VmHWM`` (the kernel's high-water
mark) is read before and after too: it catches a peak shorter than the sampling period.
"""

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import files, rush
from bench.browser import Browser
from bench.server import worker_pids
from candidatures.models import Document

INTERVAL = 0.02
QUIET = 0.5  # seconds sampled before and after the upload
WARM_UPS = 3  # small uploads per worker first, so that no import counts as growth


def status_kib(pid: int, *keys: str) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in keys:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


@dataclass
class Sampler:
    pids: list[int]
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (time, pid, KiB)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            for pid in self.pids:
                rss = status_kib(pid, "VmRSS").get("VmRSS")
                if rss is not None:
                    self.samples.append((now, pid, rss))
            self._stop.wait(INTERVAL)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(host: str, port: int, master: int, setup: rush.Setup, *, megabytes: int) -> dict:
    """Upload one file of ``megabytes`` MiB as ``setup.big`` and follow the workers' RSS."""
    folder = rush.FOLDER / "big"
    big = files.write(folder, f"Attestation signée ({megabytes} Mo).pdf", megabytes * files.MIB)
    small = files.write(folder, "CV.pdf", 200 * 1024)
    candidate = setup.big
    journey = rush.Journey(
        Browser(host, port),
        setup,
        candidate,
        {name: rush.Step(name) for name in rush.STEPS},
        threading.Lock(),
    )
    journey.login()
    token = journey.call(
        "documents_page",
        lambda: journey.browser.get(setup.url("documents", pk=candidate.dossier_id)),
        expect=200,
    ).csrf_token()
    pids = worker_pids(master)
    for _ in range(WARM_UPS * len(pids)):
        journey.upload(setup.small_required_id, small, token)
    journey.uploaded.clear()
    high_before = {pid: status_kib(pid, "VmHWM").get("VmHWM", 0) for pid in pids}
    with Sampler(pids) as sampler:
        time.sleep(QUIET)
        began = time.perf_counter()
        journey.upload(setup.big_required_id, big, token)
        ended = time.perf_counter()
        time.sleep(QUIET)
    high_after = {pid: status_kib(pid, "VmHWM").get("VmHWM", 0) for pid in pids}

    workers = []
    for pid in pids:
        before = [kib for at, p, kib in sampler.samples if p == pid and at < began]
        during = [kib for at, p, kib in sampler.samples if p == pid and at >= began]
        if not before or not during:
            continue
        baseline = statistics.median(before)
        workers.append(
            {
                "pid": pid,
                "baseline_mib": round(baseline / 1024, 1),
                "peak_mib": round(max(during) / 1024, 1),
                "increase_mib": round((max(during) - baseline) / 1024, 1),
                "hwm_before_mib": round(high_before[pid] / 1024, 1),
                "hwm_after_mib": round(high_after[pid] / 1024, 1),
            }
        )
    stored = Document.objects.filter(
        candidature_id=candidate.dossier_id, required_document_id=setup.big_required_id
    ).first()
    return {
        "file_megabytes": round(big.size / files.MIB, 1),
        "upload_seconds": round(ended - began, 2),
        "upload_megabytes_per_second": round(big.size / files.MIB / (ended - began), 1),
        "samples": len(sampler.samples),
        "interval_ms": INTERVAL * 1000,
        "stored": stored is not None and stored.size == big.size and stored.sha256 == big.sha256,
        "peak_increase_mib": max((w["increase_mib"] for w in workers), default=float("nan")),
        "workers": workers,
    }
