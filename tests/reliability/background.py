"""A small bounded background load for the reliability tests: threads, each with its own
keep-alive client, recording every outcome with the time it was sent and answered."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import httpx

# One request: (method, path) for the worker's n-th call; the worker numbers its calls.
Plan = Callable[[int, int], tuple[str, str]]


@dataclass
class Outcome:
    method: str
    path: str
    sent: float
    answered: float
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    body: object = None

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


@dataclass
class BackgroundLoad:
    """`workers` threads calling `plan(worker, n)` against `base_url` until stopped; bounded by
    `max_seconds` in case a test forgets to stop it."""

    base_url: str
    plan: Plan
    workers: int = 4
    max_seconds: float = 60.0
    pause: float = 0.01
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(worker,), daemon=True)
                         for worker in range(self.workers)]

    def __enter__(self) -> BackgroundLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        return self.outcomes

    def _run(self, worker: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            n = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                method, path = self.plan(worker, n)
                n += 1
                sent = time.monotonic()
                try:
                    response = client.request(method, path)
                    status, body = response.status_code, parse(response)
                except httpx.HTTPError as err:
                    status, body = 0, repr(err)
                with self._lock:
                    self.outcomes.append(Outcome(method, path, sent, time.monotonic(), status,
                                                 body))
                time.sleep(self.pause)

    def since(self, moment: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.sent >= moment]


def parse(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text[:200]
