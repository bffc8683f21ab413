"""Online metrics: the positive-feedback rate (a like within 24 h of an impression) per model
version, arm and day, from the impressions and likes tables (`daily_rates`). Aggregates only,
no listener appears, so anyone may read them (the Model page plots them)."""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, func, select
from starlette.concurrency import run_in_threadpool

from gateway.deps import StoreDep
from gateway.impressions import FEEDBACK_WINDOW_SECONDS
from gateway.store import Store
from gateway.tables import impressions, likes, split_ids

router = APIRouter(tags=["metrics"])
DAY = 86400
Z95 = 1.959964


class DayRate(BaseModel):
    day: str
    model_version: str
    arm: str
    impressions: int
    liked: int
    rate: float


class ArmRate(BaseModel):
    arm: str
    model_version: str
    impressions: int
    liked: int
    rate: float
    ci_low: float
    ci_high: float


class OnlineMetrics(BaseModel):
    days: int
    feedback_window_hours: int
    by_day: list[DayRate]
    arms: list[ArmRate]


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval: sound at small counts and rates near 0, unlike p +- z*se."""
    if trials == 0:
        return 0.0, 0.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) \
        / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def daily_rates(store: Store, since: float) -> list[dict]:
    """Signed-in impressions since `since` and how many a like followed within 24 h, per
    (model version, arm, UTC day). The items shown are summed in SQL; the likes join each answer
    by listener and time (index ix_impressions_user_id) and Python checks the playlist is among
    the answer's items, so a playlist shown in two answers and then liked counts twice, as two
    impressions followed by a like."""
    day = func.floor(impressions.c.shown_at / DAY).label("day")
    group = (impressions.c.model_version, impressions.c.arm, day)
    signed_in = (impressions.c.shown_at >= since, impressions.c.user_id.is_not(None))
    followed = and_(likes.c.user_id == impressions.c.user_id,
                    likes.c.liked_at >= impressions.c.shown_at,
                    likes.c.liked_at <= impressions.c.shown_at + FEEDBACK_WINDOW_SECONDS)
    with store.engine.connect() as conn:
        shown = conn.execute(select(*group, func.sum(impressions.c.item_count).label("impressions"))
                             .where(*signed_in).group_by(*group)
                             .order_by(day, impressions.c.arm, impressions.c.model_version))
        rows = {(r.model_version, r.arm, r.day): {**r._asdict(), "liked": 0} for r in shown}
        candidates = conn.execute(select(*group, impressions.c.playlist_ids, likes.c.playlist_id)
                                  .select_from(impressions.join(likes, followed))
                                  .where(*signed_in))
        for version, arm, answer_day, playlist_ids, liked in candidates:
            if liked in split_ids(playlist_ids):
                rows[version, arm, answer_day]["liked"] += 1
    return list(rows.values())


def summarize(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    by_day, totals = [], {}
    for row in rows:
        shown, liked = int(row["impressions"]), int(row["liked"])
        day = datetime.fromtimestamp(int(row["day"]) * DAY, timezone.utc).date().isoformat()
        by_day.append({"day": day, "model_version": row["model_version"], "arm": row["arm"],
                       "impressions": shown, "liked": liked, "rate": liked / shown})
        total = totals.setdefault((row["arm"], row["model_version"]), [0, 0])
        total[0] += shown
        total[1] += liked
    arms = []
    for (arm, version), (shown, liked) in sorted(totals.items()):
        low, high = wilson(liked, shown)
        arms.append({"arm": arm, "model_version": version, "impressions": shown,
                     "liked": liked, "rate": liked / shown, "ci_low": low, "ci_high": high})
    return by_day, arms


@router.get("/api/metrics/online", response_model=OnlineMetrics)
async def online_metrics(store: StoreDep,
                         days: Annotated[int, Query(ge=1, le=366)] = 30):
    """Positive-feedback rate per model version and day, and per arm over the window with a
    95% Wilson interval. Impressions of signed-out visitors are left out (no like can follow)."""
    rows = await run_in_threadpool(daily_rates, store, time.time() - days * DAY)
    by_day, arms = summarize(rows)
    return {"days": days, "feedback_window_hours": FEEDBACK_WINDOW_SECONDS // 3600,
            "by_day": by_day, "arms": arms}
