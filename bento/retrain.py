"""Retrain from live data, and promote only a model that is no worse than the one serving.

    python -m bento.retrain [--database-url URL] [--work-dir DIR] [--report FILE]
                            [--pin-file k8s/overlays/prod/model-version.env] [--open-pr]
                            [--algorithm auto] [--k 10] [--seed 0] [--engine local|spark]
                            [--snapshot csv|parquet|jdbc]

One run: a consistent, streamed snapshot of the gateway's database (gateway.export; with
--engine spark its likes as Parquet, or read by Spark's executors over JDBC) -> train
(bento.train) -> score the candidate and the champion on the same holdout of that snapshot ->
gate (bento.gate, RETRAIN_* settings) -> register (MLflow when MLFLOW_TRACKING_URI is set, else
the local BentoML store) -> on acceptance: alias `champion`, pin file, pull request.
It prints the JSON report and writes it to --report (and to the MLflow run), and records the
verdict, whatever it is, as a row of the gateway's database (retrain_reports: the Model page's
`last_retrain`); a database that refuses that row is logged and changes no exit code.

Exit codes: 0 promoted; 3 rejected by the gate (nothing promoted; 0 with
--rejected-exit-code 0, the CronJob's choice); 2 bad input (settings, an empty or invalid
snapshot); 1 anything else (database or MLflow unreachable...).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

from bento import registry as model_registry
from bento.gate import (GateSettings, champion_holdout, fresh_split, model_mib,
                        recommend_p99_ms, verdict)
from bento.options import add_search_options
from bento.plot import evaluation_plot
from bento.promote import PIN_KEYS, open_pull_request, write_pin
from bento.recsys.dataio import DataError
from bento.recsys.model import ItemItemModel
from bento.train import (DEFAULT_MODEL_NAME, ENGINES, FITTERS, Training, evaluate_at_k, log,
                         save_to_store, train)

PROMOTED, BAD_INPUT, FAILED, REJECTED = 0, 2, 1, 3
SNAPSHOTS = ("csv", "parquet", "jdbc")
DATABASE_CONNECT_SECONDS = 10


def database_url_from_env() -> str | None:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    path = os.environ.get("DATABASE_URL_FILE")
    return Path(path).read_text(encoding="utf-8").strip() if path else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bento.retrain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=database_url_from_env(),
                        help="default: DATABASE_URL, or the file DATABASE_URL_FILE names "
                             "(a mounted secret); a role that reads, and may INSERT into "
                             "retrain_reports for the verdict, is enough")
    parser.add_argument("--work-dir", type=Path, help="snapshot and scratch (default: a temp dir)")
    parser.add_argument("--report", type=Path, help="write the JSON report here too")
    parser.add_argument("--pin-file", type=Path,
                        help="on acceptance, write MODEL_VERSION=N, MODEL_SHA256 and "
                             "MODEL_SOURCE here")
    parser.add_argument("--open-pr", action="store_true",
                        help="on acceptance, open a pull request changing the pin (GitHub)")
    parser.add_argument("--rejected-exit-code", type=int, default=REJECTED, choices=[0, REJECTED],
                        help="exit code of a rejection (3); the CronJob passes 0 so a rejected "
                             "candidate, a normal night, ends the Job as Complete")
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--algorithm", default="auto", choices=["auto", *FITTERS])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="local", choices=ENGINES,
                        help="passed to bento.train: who sums the listener statistics")
    add_search_options(parser)  # passed to bento.train as they are
    parser.add_argument("--snapshot", choices=SNAPSHOTS,
                        help="how the likes are snapshotted: csv (default with --engine local), "
                             "parquet (default with --engine spark) or jdbc (Spark's executors "
                             "read them from PostgreSQL, inside the exporter's snapshot)")
    args = parser.parse_args(argv)
    args.snapshot = args.snapshot or ("csv" if args.engine == "local" else "parquet")
    if args.engine == "local" and args.snapshot != "csv":
        parser.error(f"--snapshot {args.snapshot} is read by --engine spark")
    if not args.database_url:
        parser.error("--database-url or DATABASE_URL is required")
    if not 1 <= args.k <= 100:
        parser.error("--k must be between 1 and 100")
    return args


def database_engine(database_url: str):
    """An engine on the gateway's database (psycopg 3 for postgresql:// URLs), giving up on a
    server that does not answer within DATABASE_CONNECT_SECONDS."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "postgresql":
        return create_engine(url)
    return create_engine(url, connect_args={"connect_timeout": DATABASE_CONNECT_SECONDS})


def take_snapshot(database_url: str, out_dir: Path, likes: str = "csv") -> dict[str, int]:
    from gateway.export import snapshot
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if likes == "jdbc" and url.get_backend_name() != "postgresql":
        raise DataError(url.render_as_string(), None, "--snapshot jdbc needs PostgreSQL")
    if likes == "jdbc":  # the trainer's Spark engine then takes over this session
        from bento.spark import PARTITIONS, session
        from bento.spark_snapshot import jdbc_likes

        likes = jdbc_likes(session(), database_url, PARTITIONS)
    engine = database_engine(database_url)
    try:
        return snapshot(engine, out_dir, likes)
    finally:
        engine.dispose()


def load_champion(registry, model_name: str) -> tuple[ItemItemModel | None, dict | None]:
    """The serving model: MODEL_VERSION or the `champion` alias in MLflow, else the local
    store's latest."""
    import bentoml
    from bentoml.exceptions import NotFound

    if registry is not None:
        # What prod serves is the pinned MODEL_VERSION (the CronJob gets the Bento's ConfigMap);
        # by hand, the `champion` alias. A pin naming a version not registered yet is the first
        # deployment (Git pins 1 before anything is trained): no champion, as on an empty store.
        version = os.environ.get("MODEL_VERSION") or getattr(
            registry.version(model_registry.CHAMPION), "version", None)
        if version is None or not registry.exists(version):
            return None, None
        pinned = version == os.environ.get("MODEL_VERSION")  # then the exact pinned bytes
        pulled = registry.pull(version, os.environ.get("MODEL_SHA256") if pinned else None)
        stored = bentoml.models.get(pulled["tag"])
        ref = {"tag": pulled["tag"], "registry_version": pulled["version"]}
    else:
        try:
            stored = bentoml.models.get(f"{model_name}:latest")
        except NotFound:
            return None, None
        ref = {"tag": str(stored.tag), "registry_version": None}
    metadata = stored.info.metadata
    ref["data_until"] = metadata.get("data_until") or datetime.fromisoformat(
        metadata["trained_at"]).timestamp()
    model, _ = ItemItemModel.load(stored.path)
    return model, ref


def judge(training: Training, champion: ItemItemModel | None, settings: GateSettings,
          k: int, seed: int) -> tuple[dict, dict | None, dict]:
    """Candidate and champion figures on the one holdout, and the gate's verdict."""
    train_part, test = training.holdout
    candidate = {**training.metrics["model"], "size_mib": round(model_mib(training.model), 2),
                 "p99_ms": recommend_p99_ms(training.model, train_part, k,
                                            settings.latency_samples, seed)}
    champion_metrics = None
    if champion is not None:
        log("scoring the champion on the same holdout ...")
        aligned, train_aligned, test_aligned = champion_holdout(
            champion, training.item_ids, train_part, test)
        champion_metrics = evaluate_at_k(aligned, train_aligned, test_aligned, k, seed)
        champion_metrics["unknown_items"] = len(set(training.item_ids) - set(champion.item_ids))
    return candidate, champion_metrics, verdict(candidate, champion_metrics, settings, k)


def mlflow_metrics(report: dict) -> dict[str, float]:
    """Flat metric names MLflow accepts (no '@'): candidate/recall_at_10 ..."""
    flat = {}
    for role in ("candidate", "champion", "popularity"):
        for name, value in (report.get(role) or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[f"{role}/{name.replace('@', '_at_')}"] = float(value)
    return flat


def run(args: argparse.Namespace, settings: GateSettings, work: Path) -> tuple[int, dict]:
    report: dict = {"started_at": model_registry.now(), "settings": None}
    log("snapshot of the database ...")
    report["snapshot"] = {"counts": take_snapshot(args.database_url, work / "snapshot",
                                                  args.snapshot), "likes": args.snapshot}
    registry = model_registry.MlflowRegistry() if model_registry.enabled() else None
    champion, champion_ref = load_champion(registry, args.model_name)
    if champion is None and os.environ.get("MODEL_VERSION"):
        report["pinned_version_missing"] = os.environ["MODEL_VERSION"]
    # With a champion, hold out what it has never seen: the likes made after its data.
    split = None if champion is None else fresh_split(champion_ref["data_until"], seed=args.seed)
    training = train(work / "snapshot", args.algorithm, args.k, args.seed, split=split,
                     time_budget=args.time_budget, engine=args.engine,
                     half_life_days=args.recency_half_life_days)
    report["snapshot"]["fingerprint"] = training.fingerprint
    candidate, champion_metrics, decision = judge(training, champion, settings, args.k,
                                                  args.seed)
    tag = save_to_store(args.model_name, args.k, args.seed, training)
    report.update(
        decision="promoted" if decision["passed"] else "rejected", accepted=decision["passed"],
        reasons=decision["reasons"], notes=decision["notes"], checks=decision["checks"],
        settings=decision["settings"],
        candidate={"tag": tag, "registry_version": None, "algorithm": training.choice.algorithm,
                   "params": training.choice.params, "search": training.choice.search,
                   **candidate},
        champion=None if champion_ref is None else {**champion_ref, **champion_metrics},
        popularity=training.metrics["popularity"])
    for line in decision["notes"] + decision["reasons"]:
        log(line)
    plot = evaluation_plot(work / "evaluation.png", args.k, {
        f"candidate ({training.choice.algorithm})": training.metrics["model"],
        "champion": champion_metrics, "popularity": training.metrics["popularity"]})
    version = None
    if registry is not None:
        registered = registry.register(
            tag, {"algorithm": training.choice.algorithm, "params": training.choice.params,
                  "k": args.k, "seed": args.seed, **decision["settings"]},
            mlflow_metrics(report), training.fingerprint, plot, report)
        version = report["candidate"]["registry_version"] = registered["version"]
        report["candidate"]["run_id"] = registered["run_id"]
    if not decision["passed"]:
        if registry is None:
            import bentoml

            bentoml.models.delete(tag)  # the local store's latest stays the champion
        return args.rejected_exit_code, finish(report, registry, version)
    try:
        report["promotion"] = promote(args, registry, version, report)
    except Exception as err:  # GitHub refused, pin not writable...: accepted, not promoted
        log(traceback.format_exc())
        report.update(decision="error", error=f"promotion failed: {type(err).__name__}: {err}")
        return FAILED, finish(report, registry, version)
    return PROMOTED, finish(report, registry, version)


def promote(args: argparse.Namespace, registry, version: str | None, report: dict) -> dict:
    """Pin file and pull request first: when they fail, the champion alias stays put."""
    promotion: dict = {}
    if version is None:
        promotion["note"] = "no MLflow registry: the local store's latest is the new model"
        return promotion
    promoted_at = model_registry.now()
    # The number, the artifact's sha256 and object URI, and when it was accepted.
    pin = {**registry.pin(version), "MODEL_PROMOTED_AT": promoted_at}
    if args.pin_file:
        write_pin(args.pin_file, pin)
        promotion["pin_file"] = str(args.pin_file)
    promotion["pin"] = pin
    if {key: pin.get(key) for key in PIN_KEYS[:3]} == {key: os.environ.get(key)
                                                       for key in PIN_KEYS[:3]}:
        promotion["note"] = f"MODEL_VERSION={version} is already pinned: no pull request"
    elif args.open_pr:
        # Also on the first deployment, where Git pins the number 1 but not yet its bytes.
        promotion["pull_request"] = open_pull_request(pin, model_registry.summary(report))
    promotion["promoted_at"] = registry.promote(version, promoted_at)
    promotion["alias"] = model_registry.CHAMPION
    return promotion


def finish(report: dict, registry, version: str | None) -> dict:
    report["finished_at"] = model_registry.now()
    if registry is not None and version is not None:
        run_id = registry.client.get_model_version(registry.name, version).run_id
        registry.record(version, run_id, report)
    return report


def record_verdict(database_url: str, report: dict, code: int) -> None:
    """The run's row in retrain_reports (its id in the report as `recorded_as`). The verdict is
    already in MLflow and goes to the log and --report whatever happens here, so a database
    that refuses the row (down, a schema before migration 0005, no grant) is only logged."""
    try:
        from gateway.retrain_report import record

        engine = database_engine(database_url)
        try:
            report["recorded_as"] = record(engine, report, code)
        finally:
            engine.dispose()
    except Exception as err:  # whatever it is, the outcome must not be lost
        report["recorded_as"] = None  # the first line: SQLAlchemy appends the statement
        report["record_error"] = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
        print(f"warning: the verdict was not recorded in the database: "
              f"{report['record_error']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = GateSettings.from_env()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="retrain-"))
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON report only
            code, report = run(args, settings, work)
    except DataError as err:
        code, report = BAD_INPUT, {"decision": "error", "error": str(err)}
        print(f"error: {err}", file=sys.stderr)
    except Exception as err:  # outage, GitHub refusal or bug: the report still says so
        traceback.print_exc()
        code, report = FAILED, {"decision": "error", "error": f"{type(err).__name__}: {err}"}
    report["exit_code"] = code
    report.setdefault("finished_at", model_registry.now())
    with contextlib.redirect_stdout(sys.stderr):
        record_verdict(args.database_url, report, code)
    text = json.dumps(report, indent=2, default=str)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n", encoding="utf-8")
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
