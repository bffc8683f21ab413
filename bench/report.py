"""docs/QUALITY.md and docs/quality.png from bench.quality's results (figures only; the prose
around them is kept in the TEXT template below so a re-run regenerates the whole page)."""
from __future__ import annotations

from pathlib import Path

LABELS = {"popularity": "popularity", "bento-auto": "**bento auto (default)**",
          "ease-ref": "reference EASE", "als": "implicit ALS"}
TARGETS = ("ml-100k", "supermarket", "citeulike-a", "ml-100k-all")
TRAINER_TARGETS = {"synthetic-1m": (60, 4096), "synthetic-10m": (300, 8192)}
GOAL = 1.02  # the default should beat the best rival by this ratio; 1.00 (parity) is the floor


def table(rows: dict[str, dict]) -> list[str]:
    lines = ["| contender | Recall@10 | NDCG@10 | coverage@10 | tune+fit s | peak RSS MiB | "
             "chosen settings |", "|---|---:|---:|---:|---:|---:|---|"]
    for contender, row in rows.items():
        if "skipped" in row:
            lines.append(f"| {LABELS[contender]} | - | - | - | - | - | not run: "
                         f"{row['skipped']} |")
            continue
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items()) or "-"
        lines.append(f"| {LABELS[contender]} | {row['recall']:.4f} | {row['ndcg']:.4f} | "
                     f"{row['coverage']:.3f} | {row['fit_seconds']:.1f} | {row['rss_mib']:.0f} | "
                     f"{params} |")
    return lines


def verdicts(results: dict[str, dict], cli: dict | None) -> list[str]:
    """One line per target: met, or missed by how much."""
    lines = []
    for name in (n for n in TARGETS if n in results):
        rows = results[name]
        auto = rows["bento-auto"]
        rivals = [rows[c] for c in ("ease-ref", "als") if "skipped" not in rows[c]]
        for metric in ("recall", "ndcg"):
            best = max(row[metric] for row in rivals)
            ratios = ", ".join(f"{auto[metric] / rows[c][metric]:.3f}x {LABELS[c]}"
                               for c in ("ease-ref", "als") if "skipped" not in rows[c])
            ratio = auto[metric] / best
            state = "met" if ratio >= GOAL else "parity floor met, goal missed" \
                if ratio >= 1.0 else "MISSED"
            lines.append(f"- {name} {metric}@10: auto {auto[metric]:.4f} vs best of EASE/ALS "
                         f"{best:.4f} ({ratios}; goal >= {GOAL}x): {state}")
        coverage = ", ".join(f"{LABELS[c]} {rows[c]['coverage']:.3f}"
                             for c in ("ease-ref", "als") if "skipped" not in rows[c])
        lines.append(f"- {name} coverage@10 (reported): auto {auto['coverage']:.3f}, "
                     f"{coverage}")
    for name, run in (cli or {}).items():
        seconds, mib = TRAINER_TARGETS[name]
        lines.append(f"- {name}, whole `python -m bento.train` (load, tune, evaluate, fit, "
                     f"save): {run['seconds']:.1f} s (target <= {seconds} s: "
                     f"{'met' if run['seconds'] <= seconds else 'MISSED'}), peak RSS "
                     f"{run['rss_mib']:.0f} MiB (target <= {mib}: "
                     f"{'met' if run['rss_mib'] <= mib else 'MISSED'})")
    if cli:
        als = results.get("synthetic-1m", {}).get("als", {})
        if "fit_seconds" in als:
            auto = results["synthetic-1m"]["bento-auto"]
            lines.append(f"- synthetic-1m tune+fit: auto {auto['fit_seconds']:.1f} s vs ALS "
                         f"{als['fit_seconds']:.1f} s (same grid-search protocol): "
                         f"{'met' if auto['fit_seconds'] <= als['fit_seconds'] else 'MISSED'}")
    return lines


def plot(results: dict[str, dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in results if "bento-auto" in results[n]]
    contenders = list(LABELS)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(contenders)
    for axis, metric in zip(axes, ("ndcg", "coverage")):
        for offset, contender in enumerate(contenders):
            values = [results[n][contender].get(metric, 0.0) for n in names]
            axis.bar([i + offset * width for i in range(len(names))], values, width,
                     label=LABELS[contender].strip("*"))
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, fontsize=8)
        axis.set_title(f"{metric}@10 (higher is better)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(results: dict[str, dict], cli: dict | None, machine: str, md: Path,
                 png: Path, signals: dict | None = None) -> None:
    plot(results, png)
    body = [TEXT.format(machine=machine), "## Targets", *verdicts(results, cli), NOTES]
    for name, rows in results.items():
        describe = next(row["describe"] for row in rows.values() if "describe" in row)
        body += [f"## {name}", "", describe, "", *table(rows), ""]
    body += ["![NDCG@10 and coverage@10 per dataset and contender](quality.png)", ""]
    body += signals_section(signals)
    md.write_text("\n".join(body), encoding="utf-8")


def signals_section(signals: dict | None) -> list[str]:
    """New playlists (bench.cold_start), recency (bench.recency) and play counts
    (bench.weights), each decided by the trainer's own validation (bento.signals)."""
    if not signals:
        return []
    from bench import cold_start, recency

    lines = ["## New playlists (cold start) and recency", "", SIGNALS_TEXT, ""]
    if "cold_start" in signals:
        lines += ["### New playlists: Recall@10 over items with no interactions", "",
                  *cold_start.table(signals["cold_start"]), ""]
    if "recency" in signals:
        lines += ["### Recency on real timestamps", "", *recency.table(signals["recency"]), ""]
    if "weights" in signals:
        from bench import weights

        lines += weights.section(signals["weights"]["sets"])
    return lines


SIGNALS_TEXT = """Both signals are switched on by the trainer only where its validation split
shows a gain, for the model it chose; the model's metadata `signals` records the verdict with
its figures. Content: TF-IDF over tags, name and description; an item's content score (summed
cosine with the history) is added with the weight `strength * scale * shrink / (shrink + n_j)`,
so a playlist with no likes (n_j = 0) gets all of it and a well-liked one almost none; strength
and shrink are chosen on simulated new playlists (3% of the liked ones lose every like) as the
best reach that keeps warm NDCG@10 within 1%. The table below runs the same functions on
citeulike-a (`python -m bench.cold_start`) with 10% of the articles hidden, as the issue asks:
new items take slots from warm ones, and 10% new at once is three times the share the trainer
validates with, so the warm cost shown is an upper bound. Recency: `python -m bench.recency`
(README, "Recency"); MovieLens-100K's listeners rated in sessions (half their likes lie within
minutes of their newest), so what it finds there is the order of a session: the likes entered
last say most about the held-out next ones; a service with likes spread over weeks gets a
half-life on that scale from the same check."""


TEXT = """# Recommendation quality

Generated by `make quality` (`.venv/bin/python -m bench.quality`; several minutes), which
rewrites this page and `quality.png`. Machine: {machine}.

Protocol, the same for every contender: a seeded per-user holdout (20% of each user's items with
at least 3, `bento.recsys.evaluation.holdout_split`, seed 0) is the test part; settings are chosen
on a validation holdout carved out of the training part (never the test part), by validation
NDCG@10; where the best candidates lie within 1% of each other on it, they are scored again on
more validation holdouts of the training part (other seeds), since one fold cannot tell models
that close apart (on supermarket they swapped places between folds). The rivals: up to three
grid points, on a second fold, the best mean NDCG@10 over the two. The default, below 300,000
training interactions: up to four candidates of any family, on three fresh folds, the best
mean over those alone (the first fold, on which the settings were tuned, flatters those tuned
hardest on it), on Recall@10 and NDCG@10 each relative to the finalists' best, summed (the two
targets; coverage plays no part); the chosen settings are refitted on the whole training part
and scored on the test part
with `bento.recsys.evaluation.evaluate` (Recall@10 = hits / min(10, held-out), binary NDCG@10,
coverage@10 = share of the catalogue recommended to at least one evaluated user; at most 20,000
evaluated users). Every dataset is implicit feedback: an interaction is a positive. For
MovieLens-100K a rating >= 4 is a positive (`ml-100k`); `ml-100k-all` counts every rating.
These tables fit every contender on presence; weights (ratings, play counts) as confidence,
binary against weighted for each contender, are in the last section ("Play counts as
confidence").

Contenders: popularity; **bento auto**, the trainer's default (`choose(..., "auto")`: EASE with
EDLAE's popularity-scaled ridge, a popularity damping of its columns and, up to 2,500 items and
300,000 interactions, a Gram with each listener weighted n^-g (g from 0 to 0.75; heavy listeners
do not dominate the co-occurrences), dense while the catalogue fits its 256 MiB budget, else
over the 4,096 most-liked items pruned to 200 neighbours each next to RP3beta and cosine
item-kNN; then iALS (implicit's ALS, the listener folded in from the history; regularization and
confidence searched one at a time, then scaled together, since the good pairs lie on a diagonal;
never more factors than items), then a blend of the best item-item model with iALS or with the
runner-up item-item model; all chosen on validation as above); a textbook reference EASE
over the whole catalogue (l2 from 10..5000; past 4,096 items in float32 through LAPACK's
Cholesky factor and inverse, 1.1 GB per matrix and a minute or two per setting at 16,980 items
here, so l2 from 3..300 only); implicit 0.7.3's CPU ALS (2 threads, 15 iterations,
factors/regularization/alpha from a grid, regularization 0.01 to 100 below 300,000 training
interactions; users folded in from their history with `recalculate_user`). Each row's `tune+fit`
is the settings search plus the final fit; `peak RSS` is the whole worker process (data
included).

Datasets are fetched once into `bench/.cache/` (gitignored): MovieLens-100K from the
`recbole==1.2.1` wheel (`pip download`), the supermarket baskets from Debian's `weka` package
(`apt-get download weka`, file `supermarket.arff`: 4,627 real New Zealand supermarket
baskets over departments; not tuned on, a check that the defaults generalise), CiteULike-a
(5,551 users' libraries over 16,980 articles, real and long-tailed; read in place from
`../shared/datasets/citeulike-a/`, never copied; skipped with a message where it is missing) and
the generated sets from `bento.datagen`.
"""

NOTES = """
Where the targets are missed, and why (read with the figures below):
- The goal is >= 1.02x the best of tuned EASE and tuned ALS; parity (1.00x) is the floor. On
  ml-100k the default is a blend (share 0.15) of EASE/EDLAE on a user-weighted Gram (listeners
  weighted n^-0.5) with iALS. On the first validation fold, where the settings were tuned, the
  blend at share 0.5 led (0.2346 NDCG@10, share 0.15 0.2343, iALS 0.2334, EASE 0.2306); on
  the three fresh folds that decide, share 0.15 led (0.2282 mean, share 0.5 0.2252): the first
  fold flatters what was tuned on it. Measured on the test split during development: 1.016x
  Recall@10 (+1.6% +- 0.9%, paired standard error over its 942 users) and 1.012x NDCG@10
  (+1.2% +- 0.6%) of the reference EASE: ahead, short of 1.02x. Blends with RP3beta or
  item-kNN (shares 0.1 to 0.5) lowered validation NDCG@10, and a popularity weighting of
  EASE's rows gained on one validation fold and lost on the other: not used.
- supermarket (94 departments) has next to no personal signal to find: popularity alone is
  within 4% of every model, and EASE/EDLAE (user-weighted), iALS and their blends lie within
  0.3% of each other on every validation fold, in an order that changes from fold to fold. The
  three fresh folds chose EASE/EDLAE (l2 300, listeners weighted n^-0.75; the first fold's
  leader was the blend with iALS, share 0.3): measured on the test split during development,
  1.001x Recall@10 (+0.11% +- 0.27%, paired standard error over 4,551 baskets) and 1.002x
  NDCG@10 (+0.17% +- 0.20%) of the reference EASE: parity, within noise (the reference EASE's
  own grid, decided the same way, would have lost 0.7% Recall@10: near-ties are coin flips).
- ml-100k-all (every rating a positive; reported next to the targets): a blend (share 0.5) of
  EASE/EDLAE on a user-weighted Gram (listeners weighted n^-0.75) with iALS, measured during
  development at 1.003x Recall@10 (+0.3% +- 0.6%) and 1.008x NDCG@10 (+0.9% +- 0.4%) of the
  reference EASE: parity, short of 1.02x.
- The 1M trainer target (<= 60 s) and "auto tunes no slower than ALS on 1M" were set before
  the full search: the trainer now runs its whole deterministic search by default (its grid,
  which shrinks on big data, and at most 60 candidates; no wall-clock cap, so the same data and
  seed give the same model on every machine). On synthetic-1m that is every family (EASE over
  the 4,096 most-liked items, RP3beta, item-kNN, iALS, their blends), longer than ALS's grid,
  for 1.8x its NDCG@10; the `trainer` rows give its time. `--time-budget SECONDS` caps it
  (fewer settings tried, and `search.cut_by` in the model's metadata says so). The 10M target
  (<= 300 s, from the issue) was met under the former 120 s default cap; docs/SPARK.md was
  measured with that cap and has not been re-measured without it.
- coverage@10 is reported, not a target: a factor model spreads its top-10 over more of the
  catalogue; the default's fresh folds ignore it (only on big data, where one fold decides, the
  search prefers more coverage among near-ties within 0.2% NDCG).
- citeulike-a (16,980 articles) now has its full reference EASE, and it is ahead of the
  default there. The default's own EASE runs over the 4,096 most-liked articles (its 256 MiB
  dense budget) pruned to 200 neighbours, beside RP3beta and iALS, and the search chose the
  blend of RP3beta and iALS. The full EASE wants a low ridge on this sparse catalogue: 100 was
  the best of 100..3000, 25 of 25..1000 and again of 3..300 (0.2950 Recall@10, 0.2742 NDCG@10
  on the test split in development runs: the default reached 0.963x and 0.955x of it, a miss
  of about 4-5% against the 1.02x goal). What was tried: the full EASE (l2 25) pruned for
  serving to its 100, 200 or 500 largest weights per row reaches only 0.2558, 0.2685 and 0.2753
  Recall@10 (0.2337, 0.2446, 0.2505 NDCG@10), below the default; its 200 or 500 largest by
  magnitude per row (negative weights kept) 0.2694 and 0.2801 (NDCG 0.2500, 0.2602), still
  below; per column less. Unpruned it is a dense 1.1 GB float32 matrix, over the Bento's
  512 MiB-1 GiB memory limit. Closing the gap needs a model that keeps more of the inverse in a
  small footprint (a sparse approximate inverse in the spirit of SANSA, or a low-rank plus
  sparse split): not built yet.
- The whole trainer's time is the settings search (its deterministic grid; `--time-budget`
  caps it in wall seconds), plus CPU work that a loaded machine stretches: docs/SPARK.md
  (`python -m bench.ceiling`) breaks it into steps at 1M, 10M and 47M interactions, measured on
  a quiet machine.
- Content, recency and play counts (interaction weights as confidence) are switched on per
  training where validation shows a gain (the model metadata's `signals`; the last sections of
  this page).
- Times depend on what else the machine was doing: the load average at the start of the run is
  given above (2 cores; above 2 means other work competed for the CPU), and, in runs since
  the CPU probe was added (`bench.machine`), how fast a fixed Python loop ran: a slower host
  stretches every time with no load showing.
"""
