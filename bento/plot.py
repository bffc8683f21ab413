"""The evaluation plot logged with every training run: candidate, champion and popularity on
the one holdout, side by side."""
from __future__ import annotations

from pathlib import Path

METRICS = ("recall", "ndcg", "precision", "coverage")


def evaluation_plot(path: Path, k: int, rows: dict[str, dict | None]) -> Path:
    """A grouped bar chart of the @K metrics of each labelled model (None rows are left out)."""
    import matplotlib

    matplotlib.use("Agg")  # no display in a CronJob
    import matplotlib.pyplot as plt

    shown = {label: metrics for label, metrics in rows.items() if metrics}
    width = 0.8 / max(len(shown), 1)
    figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
    for offset, (label, metrics) in enumerate(shown.items()):
        positions = [i + offset * width for i in range(len(METRICS))]
        axes.bar(positions, [metrics[f"{name}@{k}"] for name in METRICS], width, label=label)
    axes.set_xticks([i + width * (len(shown) - 1) / 2 for i in range(len(METRICS))])
    axes.set_xticklabels([f"{name}@{k}" for name in METRICS])
    axes.set_ylim(0, 1)
    axes.set_title("holdout of this snapshot")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
