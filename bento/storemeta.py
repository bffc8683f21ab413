"""What a trained model records in the BentoML store: its metadata, in the types BentoML accepts.

BentoML refuses a `None` anywhere in a model's metadata, and it refused it at the very end of a
training, after the whole search. So a missing value has one encoding, an absent key: `encoded`
leaves out every `None` (and every float that is not finite), readers use `.get`, and anything
else BentoML would refuse is a TypeError naming its place.
"""
from __future__ import annotations

import math
import platform
from datetime import datetime, timezone

import numpy as np

BASIC = (str, bool, int, float)


def missing(value) -> bool:
    """None, NaN and the infinities: a JSON reader of /model_info could not take them."""
    if isinstance(value, np.generic):
        value = value.item()
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def encoded(value, where: str = "metadata"):
    """`value` with every missing entry (None, or a float that is not finite) left out of dicts
    and lists, numpy scalars as Python numbers; TypeError(where) for anything else that is
    not a basic type."""
    if isinstance(value, dict):
        return {str(key): encoded(item, f"{where}.{key}") for key, item in value.items()
                if not missing(item)}
    if isinstance(value, (list, tuple)):
        return [encoded(item, f"{where}[{i}]") for i, item in enumerate(value)
                if not missing(item)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, BASIC):
        return value
    raise TypeError(f"{where}: {type(value).__name__} is not a type BentoML stores in metadata")


def versions() -> dict[str, str]:
    import bentoml
    import scipy
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "bentoml": bentoml.__version__}


def model_metadata(training, k: int, seed: int) -> dict:
    """The store entry's metadata for a `bento.train.Training`, encoded."""
    model = training.model
    return encoded({
        "algorithm": model.algorithm,
        "parameters": model.params,
        # Candidates fitted, and "cut_by" when --time-budget (or the candidate cap) stopped the
        # search: then the same data may give another model on a faster or quieter machine.
        "search": training.choice.search,
        # Content and recency where validation showed a gain, each with the figures that
        # decided it (bento.signals).
        "signals": training.signals.metadata(),
        "metrics": training.metrics.get("model", {}),
        "baseline_metrics": training.metrics.get("popularity", {}),
        "counts": training.counts,
        "data_until": training.data_until,  # absent when no like carries a time
        "k": k,
        "seed": seed,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
    })
