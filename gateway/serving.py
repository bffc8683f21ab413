"""Which Bento answers a listener (champion or challenger) and who records what was shown.

The split is deterministic: a hash of the listener id against CHALLENGER_PERCENT, so a listener
stays in one arm across requests and replicas; anonymous requests go to the champion.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gateway.bento_client import BentoClient
from gateway.impressions import ImpressionRecorder

CHAMPION, CHALLENGER = "champion", "challenger"


def bucket(user_id: str) -> float:
    """A stable number in [0, 100) for a listener id."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 / 100


@dataclass
class Serving:
    champion: BentoClient
    challenger: BentoClient | None = None
    challenger_percent: float = 0.0
    recorder: ImpressionRecorder | None = None

    def arm(self, user_id: str | None) -> str:
        if self.challenger is None or user_id is None:
            return CHAMPION
        return CHALLENGER if bucket(user_id) < self.challenger_percent else CHAMPION

    def client(self, arm: str) -> BentoClient:
        return self.challenger if arm == CHALLENGER else self.champion
