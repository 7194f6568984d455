"""Bounded maps for what the service keeps: ``Lru``, and ``TtlCache`` for values kept a few seconds.

``TtlCache`` holds control data read on every request but changed rarely.

Who holds a token, which model serves, which period is the latest scored
and whether the hierarchy moved are read on every request of the hot paths
and change a few times a week. Asking the database each time cost most of a
request (docs/benchmarks.md#service); keeping the answer for ``seconds``
means a revocation, a promotion or a new scoring run takes at most that
long to apply (docs/adr/0013). ``seconds=0`` keeps nothing: every call
asks again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from api.off_loop import io_point

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MISSING = object()


class Lru(Generic[K, V]):
    """A bounded, thread-safe map: when it is full, the least recently used entry leaves first."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


class TtlCache(Generic[K, V]):
    """A bounded map whose entries expire ``seconds`` after they were loaded.

    ``None`` is never kept, so an unknown token or a missing row is asked
    again next time (a user added a moment ago is not refused for seconds).
    Loads run outside any lock: two threads may load the same key at once,
    which costs a query and is harmless.
    """

    def __init__(self, seconds: float, *, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._items: Lru[K, tuple[float, V]] = Lru(max_items)

    def peek(self, key: K) -> V | object:
        """The fresh value for ``key``, or ``MISSING`` (no I/O: safe on the event loop)."""
        entry = self._items.get(key)
        if entry is None or self._clock() - entry[0] >= self.seconds:
            return MISSING
        return entry[1]

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The fresh value for ``key``, loading and keeping it when there is none."""
        value = self.peek(key)
        if value is not MISSING:
            return value  # type: ignore[return-value]
        io_point()
        loaded_at = self._clock()
        value = load()
        if value is not None and self.seconds > 0:
            self._items.put(key, (loaded_at, value))
        return value
