"""What the gateway showed, recorded off the request path: `record` only appends to an
in-process buffer; a background task (started by the lifespan) writes it, one row per answer,
every IMPRESSIONS_FLUSH_MS or once IMPRESSIONS_BATCH_ROWS items are waiting, prunes rows older
than IMPRESSIONS_RETENTION_DAYS, and flushes what is left at shutdown.

A full buffer (the database is slow or down) drops new impressions and counts them: metrics
may lose rows, a listener's request never waits for them. Anonymous answers (popular picks) are
counted in gateway_impressions_total and never written: no like can follow them up, and a row
per anonymous request let anyone grow the table at will.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time

from sqlalchemy import insert, select
from starlette.concurrency import run_in_threadpool

from gateway.observability import Metrics
from gateway.store import Store
from gateway.tables import impressions, joined_ids, split_ids

log = logging.getLogger("gateway.impressions")
FEEDBACK_WINDOW_SECONDS = 24 * 3600  # a like within this long of an impression counts
PRUNE_EVERY_SECONDS = 3600.0


def answer_id(shown_at: float) -> str:
    """An impression row's id, 29 characters: the time in microseconds first, so ids ascend and
    a batch appends to the primary key's index (a random id dirtied a page of it per row), then
    60 random bits so gateway replicas never collide."""
    return f"{int(shown_at * 1_000_000):014x}{secrets.randbits(60):015x}"


class ImpressionRecorder:
    def __init__(self, store: Store, metrics: Metrics, flush_ms: int, batch_rows: int,
                 retention_days: float, max_buffered: int = 100_000):
        self.store, self.flush_seconds, self.batch_rows = store, flush_ms / 1000, batch_rows
        self.retention_seconds = retention_days * 86400
        self.max_buffered = max_buffered
        # One entry per answer: (user_id, playlist ids, model version, request id, arm, time);
        # the flusher turns them into rows, so a request pays for one append.
        self.buffer: list[tuple] = []
        self.buffered_items = 0
        self.wake = asyncio.Event()
        self.last_prune = 0.0
        self.shown, self.dropped = metrics.impressions, metrics.impressions_dropped
        self.feedback = metrics.feedback
        metrics.impressions_buffered.set_function(lambda: self.buffered_items)

    def record(self, user_id: str | None, playlist_ids: list[str], model_version: str,
               request_id: str, arm: str) -> None:
        """Keep one answer's items (position 0 first); never blocks, never raises."""
        if not playlist_ids:
            return
        self.shown.labels(model_version, arm).inc(len(playlist_ids))
        if user_id is None:
            return
        if self.buffered_items + len(playlist_ids) > self.max_buffered:
            self.dropped.inc(len(playlist_ids))
            return
        self.buffer.append((user_id, playlist_ids, model_version, request_id, arm, time.time()))
        self.buffered_items += len(playlist_ids)
        if self.buffered_items >= self.batch_rows:
            self.wake.set()

    @staticmethod
    def rows(answers: list[tuple]) -> list[dict]:
        return [{"id": answer_id(shown_at), "user_id": user_id,
                 "playlist_ids": joined_ids(playlist_ids),
                 "item_count": len(playlist_ids), "model_version": model_version,
                 "request_id": request_id, "arm": arm, "shown_at": shown_at}
                for user_id, playlist_ids, model_version, request_id, arm, shown_at in answers]

    def forget(self, user_id: str) -> None:
        """Before erasing a listener: their buffered impressions are never written."""
        self.buffer = [answer for answer in self.buffer if answer[0] != user_id]
        self.buffered_items = sum(len(answer[1]) for answer in self.buffer)

    def liked(self, user_id: str, playlist_id: str) -> None:
        """A new like: counted as feedback for the newest impression of that playlist shown to
        that listener in the last 24 h (buffered or written), if any."""
        since = time.time() - FEEDBACK_WINDOW_SECONDS
        row = next(({"model_version": answer[2], "arm": answer[4]}
                    for answer in reversed(list(self.buffer))
                    if answer[0] == user_id and playlist_id in answer[1]
                    and answer[5] >= since), None)
        if row is None:
            with self.store.engine.connect() as conn:
                shown = conn.execute(
                    select(impressions.c.model_version, impressions.c.arm,
                           impressions.c.playlist_ids)
                    .where(impressions.c.user_id == user_id, impressions.c.shown_at >= since)
                    .order_by(impressions.c.shown_at.desc())).mappings()
                row = next((answer for answer in shown
                            if playlist_id in split_ids(answer["playlist_ids"])), None)
        if row is not None:
            self.feedback.labels(row["model_version"], row["arm"]).inc()

    def write(self, answers: list[tuple]) -> None:
        """In a worker thread: insert, one transaction per IMPRESSIONS_BATCH_ROWS answers."""
        rows = self.rows(answers)
        for start in range(0, len(rows), self.batch_rows):
            with self.store.engine.begin() as conn:
                conn.execute(insert(impressions), rows[start:start + self.batch_rows])

    def prune(self) -> int:
        """Delete impressions older than the retention; the number of answers deleted."""
        cutoff = time.time() - self.retention_seconds
        with self.store.engine.begin() as conn:
            return conn.execute(impressions.delete()
                                .where(impressions.c.shown_at < cutoff)).rowcount

    async def flush(self) -> None:
        answers, count = self.buffer, self.buffered_items
        self.buffer, self.buffered_items = [], 0
        if not answers:
            return
        try:
            await run_in_threadpool(self.write, answers)
        except Exception:  # a database outage loses these rows, never the gateway
            log.exception("could not write impressions", extra={"rows": count})
            self.dropped.inc(count)

    async def run(self) -> None:
        """The flusher: until cancelled, then one last flush."""
        try:
            while True:
                try:
                    await asyncio.wait_for(self.wake.wait(), self.flush_seconds)
                except asyncio.TimeoutError:
                    pass
                self.wake.clear()
                await self.flush()
                if time.monotonic() - self.last_prune > PRUNE_EVERY_SECONDS:
                    self.last_prune = time.monotonic()
                    try:
                        pruned = await run_in_threadpool(self.prune)
                    except Exception:
                        log.exception("could not prune impressions")
                    else:
                        if pruned:
                            log.info("pruned impressions", extra={"rows": pruned})
        finally:
            await self.flush()


def count_feedback(request, user_id: str, playlist_id: str) -> None:
    """After a new like: gateway_feedback_total for the impression it followed, if any."""
    recorder = request.app.state.serving.recorder
    if recorder is not None:
        recorder.liked(user_id, playlist_id)
