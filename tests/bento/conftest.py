"""One in-process PlaylistRecommender per test session: its __init__ registers a Prometheus
gauge in the process-wide registry, which a second instance would register again."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def recommender(bento_home):
    from bento.service import PlaylistRecommender  # after the fixture trained the model

    return PlaylistRecommender()
