"""Run a coroutine to completion from a sync test, even after Playwright's sync API has left an
event loop running in the main thread (pytest-playwright's browser is session-scoped)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, TypeVar

T = TypeVar("T")


def run(coroutine: Awaitable[T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
