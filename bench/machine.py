"""The machine a benchmark ran on, for the pages: cores, CPU model, load average, CPU probe.

The load average misses one way a shared VM slows down: the host giving it slower cycles. In one
make benchmarks run the load generator's own CPU per request rose sevenfold against an earlier
run with the load average below the core count, and the quality pages' times grew 1.5x. The probe
times a fixed pure-Python loop at the start of a run, so two runs' pages say how fast the CPU was.
It does not see every slowdown: a small loop fits the CPU's caches, and once BentoML served 4x
more slowly than earlier while the probe read its fastest figure of the day.
"""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

PROBE_STEPS = 1_000_000
PROBE_REPEATS = 3


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines
                 if line.startswith("model name")), platform.processor())


def probe_ms(repeats: int = PROBE_REPEATS) -> float:
    """CPU milliseconds of PROBE_STEPS steps of a Python loop, the best of `repeats` (lower is
    faster; the best, since a probe can only be slowed down, never sped up)."""
    best = float("inf")
    for _ in range(repeats):
        started, total = time.process_time(), 0
        for step in range(PROBE_STEPS):
            total += step
        best = min(best, time.process_time() - started)
    return best * 1000.0


def load_text(loadavg: Sequence[float] | None = None) -> str:
    """A load average (now, or one a run recorded) as the pages print it."""
    return " ".join(f"{value:.2f}" for value in (loadavg or os.getloadavg()))


def probe_text(milliseconds: float | None = None) -> str:
    """The probe's figure as the pages print it."""
    milliseconds = probe_ms() if milliseconds is None else milliseconds
    return f"CPU probe {milliseconds:.0f} ms ({PROBE_STEPS:,} Python loop steps, best of " \
        f"{PROBE_REPEATS}; " \
        f"lower is faster, compare it between runs)"
