"""Each night's retrain verdict as a row of the gateway's database (table `retrain_reports`):
`python -m bento.retrain` writes one per run, accepted, rejected or failed; the gateway's
/api/model shows the newest as `last_retrain`. The database is the record, so the gateway never
talks to MLflow (its write API has no authentication; only the retrain job may reach it).

Only sqlalchemy and gateway.tables are imported: the Bento image, which the retrain CronJob
runs, carries this module without the gateway app (bentofile.yaml).
"""
from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import Engine, insert, select

from gateway.tables import retrain_reports

# What a person reads first (bento.registry.summary's keys), and why a night failed.
SUMMARY_KEYS = ("decision", "reasons", "notes", "candidate", "champion", "finished_at", "error")


def json_safe(value):
    """Plain JSON both databases accept: no NaN or infinity (None instead), str for the rest."""
    return json.loads(json.dumps(value, default=str), parse_constant=lambda _: None)


def report_row(report: dict, exit_code: int) -> dict:
    """The row for one run of the retrain job, from its JSON report and exit code."""
    candidate = report.get("candidate") or {}
    version = candidate.get("registry_version")
    promotion = report.get("promotion") or {}
    # The aliases this run set: `challenger` on every registered candidate, `champion` on
    # promotion (bento.registry).
    aliases = [name for name, set_ in (("challenger", version is not None),
                                       ("champion", "alias" in promotion)) if set_]
    summary = {**{key: report.get(key) for key in SUMMARY_KEYS}, "aliases": aliases,
               "promoted_at": promotion.get("promoted_at"),
               "accepted": bool(report.get("accepted")), "exit_code": exit_code}
    return {"id": uuid.uuid4().hex, "finished_at": time.time(),
            "decision": str(report.get("decision") or "error"),
            "accepted": summary["accepted"], "exit_code": exit_code,
            "candidate_version": version, "run_id": candidate.get("run_id"),
            "champion_version": (report.get("champion") or {}).get("registry_version"),
            "summary": json_safe(summary)}


def record(engine: Engine, report: dict, exit_code: int) -> str:
    """Insert the run's row (the retrain role's one grant); its id."""
    row = report_row(report, exit_code)
    with engine.begin() as conn:
        conn.execute(insert(retrain_reports).values(**row))
    return row["id"]


def latest(engine: Engine) -> dict | None:
    """The newest run as /api/model's `last_retrain`: {version, aliases, promoted_at, decision,
    reasons, notes, candidate, champion, finished_at, ...}, or None before the first."""
    query = select(retrain_reports.c.candidate_version, retrain_reports.c.summary).order_by(
        retrain_reports.c.finished_at.desc(), retrain_reports.c.id.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else {"version": row.candidate_version, **row.summary}
