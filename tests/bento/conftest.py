"""One in-process PlaylistRecommender per test session: its __init__ registers a Prometheus
gauge in the process-wide registry, which a second instance would register again. One Spark
engine (local[2]) per session too: a JVM start costs tens of seconds."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def recommender(bento_home):
    from bento.service import PlaylistRecommender  # after the fixture trained the model

    return PlaylistRecommender()


@pytest.fixture(scope="session")
def spark_engine():
    from bento.spark import Spark  # PySpark and Java only for the Spark tests

    engine = Spark()
    yield engine
    engine.close()
