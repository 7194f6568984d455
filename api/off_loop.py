"""Answer from memory on the event loop; go to a worker thread only when the database must be asked.

The hot read paths (a score, a page of hotspots) are answered from what is
kept in memory nearly every time; a worker-thread hop per request then costs
more than the answer (docs/benchmarks.md#service). ``run_warm`` runs a
function on the event loop with I/O forbidden: every place that would read
the database or hash a file first calls ``io_point()``, which raises
``NeedsIO`` there. The function is then run again in the threadpool, where
I/O is allowed. Functions run this way must only read until their first
``io_point()`` (they are started twice).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
_NO_IO: contextvars.ContextVar[bool] = contextvars.ContextVar("concord_no_io", default=False)


class NeedsIO(Exception):
    """Raised on the event loop where a function would block on I/O."""


def io_point() -> None:
    """Call before any blocking I/O (a query, a file hash, waiting on a lock held during one)."""
    if _NO_IO.get():
        raise NeedsIO


async def run_warm(fn: Callable[..., T], /, *args: object, **kwargs: object) -> T:
    """``fn(*args, **kwargs)`` on the event loop if it needs no I/O, else in a worker thread."""
    token = _NO_IO.set(True)
    try:
        return fn(*args, **kwargs)
    except NeedsIO:
        pass
    finally:
        _NO_IO.reset(token)
    return await run_in_threadpool(fn, *args, **kwargs)
