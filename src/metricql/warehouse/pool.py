"""A small thread-safe pool of DB-API connections: opened lazily, at most `size` at once.

A thread takes an idle connection or opens one while fewer than `size` exist, else waits for
one to come back. A connection that failed in a way that left it unusable (closed, or its
rollback fails) is closed and dropped, so the next caller opens a fresh one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from metricql.errors import WarehouseError


class ConnectionPool:
    """Up to `size` connections made by `open`; `close()` closes them all."""

    def __init__(self, open_connection: Callable[[], Any], size: int = 1) -> None:
        self._open = open_connection
        self.size = max(1, int(size))
        self._idle: list[Any] = []
        self._count = 0  # connections open now, idle or lent out
        self._closed = False
        self._available = threading.Condition(threading.Lock())

    def acquire(self) -> Any:
        """An idle connection, a new one, or (when `size` are lent out) the next returned."""
        with self._available:
            while True:
                self._check_open()
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                self._available.wait()
        try:
            return self._open()  # outside the lock: connecting may take seconds
        except BaseException:
            with self._available:
                self._count -= 1
                self._available.notify()
            raise

    def release(self, connection: Any, *, healthy: bool = True) -> None:
        """Give a connection back; an unhealthy one (or any, once closed) is closed instead."""
        with self._available:
            keep = healthy and not self._closed
            if keep:
                self._idle.append(connection)
            else:
                self._count -= 1
            self._available.notify()
        if not keep:
            _close_quietly(connection)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """Lend a connection for the block; an error that broke it drops it from the pool."""
        connection = self.acquire()
        healthy = True
        try:
            yield connection
        except BaseException:
            healthy = usable(connection)
            raise
        finally:
            self.release(connection, healthy=healthy)

    def close(self) -> None:
        """Close the idle connections now and the lent ones when they come back."""
        with self._available:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._available.notify_all()
        for connection in idle:
            _close_quietly(connection)

    def _check_open(self) -> None:
        if self._closed:
            raise WarehouseError(
                "the project's warehouse connections were closed",
                hint="load the project again (Project.close() or the `with` block ended)",
            )


def usable(connection: Any) -> bool:
    """Whether a connection survived a failed statement (rolled back, still open)."""
    if getattr(connection, "closed", False) or getattr(connection, "broken", False):
        return False
    rollback = getattr(connection, "rollback", None)
    if not callable(rollback):
        return True
    try:
        rollback()
    except Exception:  # any driver error here means the connection is gone
        return False
    return True


def _close_quietly(connection: Any) -> None:
    close = getattr(connection, "close", None)
    if callable(close):
        with suppress(Exception):  # closing a broken connection may fail; it is dropped anyway
            close()
