"""The machine line of the benchmark pages: the CPU probe is measured, printed, and read back
from a load run's JSON (an older JSON without it still renders)."""
import copy

from bench import load_report
from bench.machine import PROBE_STEPS, probe_ms, probe_text


def test_probe_measures_cpu_time_of_the_loop():
    measured = probe_ms(repeats=1)
    assert 0.0 < measured < 60_000.0
    assert probe_text(12.4).startswith(f"CPU probe 12 ms ({PROBE_STEPS:,} Python loop steps")


def figures() -> dict:
    row = {"target": "bento", "concurrency": 1, "requests": 10, "errors": 0, "rps": 100.0,
           "p50": 1.0, "p95": 2.0, "p99": 3.0, "statuses": {"200": 10},
           "cpu_ms": {"client": 0.1, "bento": 1.0, "gateway": 0.0, "nginx": 0.0}}
    rows = [dict(row, target=target, concurrency=level) for target in ("bento", "gateway",
                                                                       "nginx")
            for level in (1, 16, 32)]
    return {"machine": {"nproc": 2, "cpu": "test CPU", "loadavg_start": [0.5, 0.5, 0.5],
                        "loadavg_end": [1.0, 1.0, 1.0], "python": "3.11", "kernel": "6",
                        "probe_ms": 61.7},
            "config": {"seconds": 10.0, "soak": 60.0, "k": 10, "users": 200, "bento_workers": 1,
                       "gateway_workers": 1, "date": "2026-12-02 18:00 UTC"},
            "rows": rows,
            "soak": dict(row, target="nginx", concurrency=32, seconds=60.0)}


def test_benchmarks_page_prints_the_probe_and_renders_without_it(tmp_path):
    with_probe = figures()
    old = copy.deepcopy(with_probe)
    del old["machine"]["probe_ms"]
    for name, data in (("new", with_probe), ("old", old)):
        page = tmp_path / name / "BENCHMARKS.md"
        page.parent.mkdir()
        load_report.render(data, page)
    new_machine = next(line for line in (tmp_path / "new" / "BENCHMARKS.md").read_text()
                       .splitlines() if line.startswith("- Machine:"))
    old_machine = next(line for line in (tmp_path / "old" / "BENCHMARKS.md").read_text()
                       .splitlines() if line.startswith("- Machine:"))
    assert "Python 3.11; CPU probe 62 ms" in new_machine
    assert old_machine.endswith("Python 3.11.") and "probe" not in old_machine
