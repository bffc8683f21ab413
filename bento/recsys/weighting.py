"""The optional signals' weights: per history item (recency), per target item (content) and per
interaction (play counts, as confidence),
plain numpy, shared by the model, the trainer's validation and the Bento."""
from __future__ import annotations

import numpy as np

DAY_SECONDS = 86_400.0


def recency_weights(times: np.ndarray, half_life_days: float,
                    newest: np.ndarray | float | None = None) -> np.ndarray:
    """0.5 ** (age / half-life) per history item, the age counted from the history's newest
    like (`newest`, default the newest of `times`: the newest weighs 1 whatever the clock
    says); an unknown time (NaN) weighs 1."""
    times = np.asarray(times, dtype=np.float64)
    if newest is None:
        newest = np.nanmax(times) if (~np.isnan(times)).any() else 0.0
    weights = np.power(0.5, (newest - times) / (half_life_days * DAY_SECONDS))
    return np.where(np.isnan(weights), 1.0, weights)


def content_weights(popularity: np.ndarray, strength: float, shrink: float | None,
                    scale: float) -> np.ndarray:
    """Per target item: `strength * scale * shrink / (shrink + n_j)`, n_j its feedback count
    (shrink None: every item alike, a content-only model); `scale` puts the content scores on
    the collaborative scores' scale."""
    trust = 1.0 if shrink is None else shrink / (shrink + popularity)
    return np.broadcast_to(np.float32(strength * scale) * trust,
                           popularity.shape).astype(np.float32)


def play_confidence(plays: np.ndarray, alpha: float) -> np.ndarray:
    """Per interaction: 1 + alpha * log(1 + plays), divided by its mean over `plays` (so the
    ridge and confidence tuned on binary data keep their scale): a heavy tail of play counts
    (or a 1..5 rating) becomes a bounded confidence."""
    confidence = 1.0 + alpha * np.log1p(np.asarray(plays, dtype=np.float64))
    mean = float(confidence.mean()) if confidence.size else 1.0
    return (confidence / mean).astype(np.float32)
