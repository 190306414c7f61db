"""Query timeouts: cancel a running statement from a timer thread, report it as one error.

Every engine has some way to stop a statement from another thread (psycopg's
`connection.cancel_safe()`, DuckDB's `interrupt()`, a DB-API `cursor.cancel()`, Spark's
`interruptTag`); the warehouse passes it in. The statement's own error is then replaced by a
`QueryTimeoutError`, so the caller sees the same error whatever the driver raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from metricql.errors import QueryTimeoutError


class Deadline:
    """Whether the timer fired, and what cancelling said if it failed."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self.cancel_error: str | None = None

    def error(self, sql: str | None) -> QueryTimeoutError:
        """The error to raise once the timer fired."""
        failed = f" (cancelling it failed: {self.cancel_error})" if self.cancel_error else ""
        return QueryTimeoutError(
            f"the query ran longer than its timeout of {self.seconds:g} s and was "
            f"cancelled{failed}",
            hint="raise the timeout, add filters or a limit, or check the warehouse's load",
            sql=sql,
            timeout=self.seconds,
        )


@contextmanager
def cancel_after(
    seconds: float | None, cancel: Callable[[], Any], sql: str | None = None
) -> Iterator[Deadline]:
    """Run the block; if it still runs after `seconds`, call `cancel` from a timer thread.

    Any error the block raises after the timer fired becomes a QueryTimeoutError; a block
    that finished anyway after the deadline raises it too (its work arrived too late).
    """
    deadline = Deadline(seconds)
    if seconds is None:
        yield deadline
        return

    def fire() -> None:
        deadline.fired.set()
        try:
            cancel()
        except Exception as err:
            deadline.cancel_error = f"{type(err).__name__}: {err}"

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield deadline
    except Exception as err:
        if deadline.fired.is_set():
            raise deadline.error(sql) from err
        raise
    finally:
        timer.cancel()
        timer.join()  # a cancel in flight must land before the connection runs anything else
    if deadline.fired.is_set():
        raise deadline.error(sql)
