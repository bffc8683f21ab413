"""Quality gate for CD: may this freshly trained model replace the one in production?

Reads the metrics JSON that `python -m bento.train --metrics-out FILE` writes
({"algorithm": {"recall@10": ...}, "popularity": {...}, ...}) and fails (exit 1) when the
candidate's Recall@K is below the floor, below the production model's (minus a tolerance, since
a retrain on new data is evaluated on a different holdout), or no better than popularity.
Exit 2 means the metrics file itself is unusable. Prints one JSON verdict line either way.

    python scripts/quality_gate.py --candidate metrics.json \
        [--baseline k8s/overlays/prod/model-metrics.json] [--floor 0.05] [--tolerance 0.01]
"""
import argparse
import json
import sys
from pathlib import Path


class MetricsError(Exception):
    """A metrics file is missing, not JSON, or lacks the metric."""


def recall(path, metric, section="algorithm"):
    try:
        data = json.loads(Path(path).read_text())
        value = data[section][metric]
    except FileNotFoundError:
        raise MetricsError(f"{path}: no such file")
    except json.JSONDecodeError as exc:
        raise MetricsError(f"{path}:{exc.lineno}: not JSON ({exc.msg})")
    except (KeyError, TypeError):
        raise MetricsError(f"{path}: no {section}.{metric} in the metrics")
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise MetricsError(f"{path}: {section}.{metric} = {value!r} is not a number in 0..1")
    return float(value)


def verdict(candidate, baseline=None, floor=0.0, tolerance=0.0, metric="recall@10",
            beat_popularity=True):
    """(passed, reasons, figures) for a candidate metrics file against the gate's rules."""
    figures = {"candidate": recall(candidate, metric), "floor": floor}
    reasons = []
    if figures["candidate"] < floor:
        reasons.append(f"{metric} {figures['candidate']:.4f} is below the floor {floor:.4f}")
    if baseline is not None and Path(baseline).exists():
        figures["production"] = recall(baseline, metric)
        if figures["candidate"] < figures["production"] - tolerance:
            reasons.append(f"{metric} {figures['candidate']:.4f} is below production's "
                           f"{figures['production']:.4f} (tolerance {tolerance:.4f})")
    if beat_popularity:
        figures["popularity"] = recall(candidate, metric, section="popularity")
        if figures["candidate"] <= figures["popularity"]:
            reasons.append(f"{metric} {figures['candidate']:.4f} does not beat the popularity "
                           f"baseline's {figures['popularity']:.4f}")
    return not reasons, reasons, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", required=True, help="metrics JSON of the new model")
    parser.add_argument("--baseline", help="metrics JSON of the production model (optional: "
                                           "a missing file means there is none yet)")
    parser.add_argument("--floor", type=float, default=0.0, help="absolute minimum Recall@K")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="how far below production the candidate may fall")
    parser.add_argument("--metric", default="recall@10")
    parser.add_argument("--allow-below-popularity", action="store_true",
                        help="do not require beating the popularity baseline")
    args = parser.parse_args(argv)
    try:
        passed, reasons, figures = verdict(args.candidate, args.baseline, args.floor,
                                           args.tolerance, args.metric,
                                           not args.allow_below_popularity)
    except MetricsError as exc:
        print(json.dumps({"passed": False, "error": str(exc)}))
        return 2
    print(json.dumps({"passed": passed, "metric": args.metric, **figures, "reasons": reasons}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
