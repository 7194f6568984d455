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
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
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

    def drop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


@dataclass
class _Entry(Generic[V]):
    loaded_at: float
    value: V
    refreshing: bool = False


class TtlCache(Generic[K, V]):
    """A bounded map whose entries expire ``seconds`` after they were loaded.

    An entry past half its life is refreshed ahead, once, in a background
    thread while it is still served, so steady traffic never waits for a
    reload and never sends a herd of reloads when it expires; a refresh that
    finds nothing (a revoked token) drops the entry at once. Past ``seconds``
    an entry is never served. ``None`` is never kept, so an unknown token or
    a missing row is asked again next time (a user added a moment ago is not
    refused for seconds).
    """

    def __init__(
        self, seconds: float, *, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic,
        refresher: Executor | None = None,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._items: Lru[K, _Entry[V]] = Lru(max_items)
        self._refresher = refresher  # default: one background thread, made when first needed
        self._lock = threading.Lock()

    def peek(self, key: K) -> V | object:
        """The fresh value for ``key``, or ``MISSING`` (no I/O: safe on the event loop)."""
        entry = self._items.get(key)
        if entry is None or self._clock() - entry.loaded_at >= self.seconds:
            return MISSING
        return entry.value

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The fresh value for ``key``, loading and keeping it when there is none."""
        entry = self._items.get(key)
        if entry is not None:
            age = self._clock() - entry.loaded_at
            if age < self.seconds:
                if age >= self.seconds / 2:
                    self._refresh_ahead(key, entry, load)
                return entry.value
        io_point()
        return self._load(key, load)

    def _load(self, key: K, load: Callable[[], V | None]) -> V | None:
        loaded_at = self._clock()
        value = load()
        if value is None:
            self._items.drop(key)
        elif self.seconds > 0:
            self._items.put(key, _Entry(loaded_at, value))
        return value

    def _refresh_ahead(self, key: K, entry: _Entry[V], load: Callable[[], V | None]) -> None:
        with self._lock:
            if entry.refreshing:
                return
            entry.refreshing = True  # a failed refresh leaves it set: the entry then simply expires
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="concord-refresh")
        self._refresher.submit(self._load, key, load)
