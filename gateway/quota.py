"""A per-listener write quota: an in-process token bucket, so it holds per gateway replica
(N replicas let a listener write N times the rate; nginx's and the Ingress's per-client request
rates bound the total)."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from fastapi import HTTPException

# Buckets of listeners not seen for a while are dropped oldest first beyond this many.
MAX_TRACKED = 100_000
# For the OpenAPI document of every route behind a quota.
OVER_QUOTA = {429: {"description": "over the write quota; Retry-After says when to retry"}}


class QuotaExceeded(HTTPException):
    def __init__(self, retry_after: int):
        super().__init__(429, f"too many writes; try again in {retry_after} s",
                         headers={"Retry-After": str(retry_after)})


class WriteQuota:
    """`per_minute` writes a minute on average, up to `burst` at once, per key."""

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = per_minute / 60.0, float(burst), clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token for `key`, or raise QuotaExceeded with the seconds to wait."""
        with self.lock:
            now = self.clock()
            tokens, last = self.buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self.buckets[key] = (tokens, now)
                raise QuotaExceeded(max(1, math.ceil((1.0 - tokens) / self.rate)))
            self.buckets[key] = (tokens - 1.0, now)
            while len(self.buckets) > MAX_TRACKED:
                self.buckets.popitem(last=False)
