"""Work off the event loop: a thread pool for the (synchronous) library, per-user limits, a
timeout per query, and a store of finished results (query pages, CSV files, validations).

- `run` awaits one call in the pool: at most `max_queries_per_user` at once per caller (more
  → TooManyRequestsError), TimeoutError after `query_timeout` seconds (the call itself runs
  on: Python threads cannot be stopped, so its slot is freed only when it returns).
- `submit` starts a call in the background and returns a job id; `job` reads its state.
  Jobs belong to their caller; results live `result_ttl` seconds, at most `max_jobs` of them.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from metricql import MetricQLError
from metricql.server.schemas import ApiError, from_metricql

__all__ = ["Job", "Jobs", "Settings"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Settings:
    """Operational limits of the server (every one a `metricql serve` flag)."""

    max_request_bytes: int = 1_000_000
    max_limit: int = 5000
    default_page_size: int = 500
    max_page_size: int = 5000
    max_queries_per_user: int = 8
    query_timeout: float = 60.0
    workers: int = 16
    result_ttl: float = 900.0
    max_jobs: int = 1000
    shutdown_grace: float = 30.0


@dataclass
class Job:
    """A background call: who started it, when, and how it ended."""

    id: str
    owner: str
    kind: str
    started: float
    future: Future[Any] = field(repr=False)
    cancelled: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def state(self, timeout: float) -> tuple[str, Any]:
        """('pending' | 'ready' | 'error' | 'cancelled', result or an ApiError)."""
        if self.cancelled:
            return "cancelled", None
        if not self.future.done():
            if time.monotonic() - self.started > timeout:
                return "error", _timeout(timeout)
            return "pending", None
        error = self.future.exception()
        if error is None:
            return "ready", self.future.result()
        return "error", _api_error(error)


class Jobs:
    """The pool, the per-user counters and the job store of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="metricql")
        self._lock = threading.Lock()
        self._active: dict[str, int] = {}
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    async def run(self, owner: str, call: Callable[[], T]) -> T:
        """`call()` in the pool, within the caller's limits (see the module docstring)."""
        future = self._start(owner, call)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.query_timeout)
        except asyncio.TimeoutError:
            raise _timeout(self.settings.query_timeout) from None
        except MetricQLError as err:
            raise from_metricql(err) from None

    def submit(self, owner: str, kind: str, call: Callable[[], Any], **meta: Any) -> Job:
        """Start `call()` in the background; its job id is the handle."""
        job = Job(
            uuid.uuid4().hex, owner, kind, time.monotonic(), self._start(owner, call), meta=meta
        )
        with self._lock:
            self._evict()
            self._jobs[job.id] = job
        return job

    def job(self, job_id: str, owner: str | None = None) -> Job:
        """A job of `owner` (any owner when None); others' and expired jobs are NotExistsError."""
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None or (owner is not None and found.owner != owner):
            raise ApiError("NotExistsError", 404, f"job {job_id!r} does not exist (or expired)")
        return found

    def shutdown(self) -> None:
        """Finish running calls, start no new ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, owner: str, call: Callable[[], T]) -> Future[T]:
        with self._lock:
            active = self._active.get(owner, 0)
            if active >= self.settings.max_queries_per_user:
                raise ApiError(
                    "TooManyRequestsError",
                    429,
                    f"at most {self.settings.max_queries_per_user} queries may run at once "
                    "per user; wait for one to finish",
                )
            self._active[owner] = active + 1
        future = self._pool.submit(call)
        future.add_done_callback(lambda _: self._finish(owner))
        return future

    def _finish(self, owner: str) -> None:
        with self._lock:
            left = self._active.get(owner, 1) - 1
            if left:
                self._active[owner] = left
            else:
                self._active.pop(owner, None)

    def _evict(self) -> None:
        now = time.monotonic()
        while self._jobs:
            oldest = next(iter(self._jobs.values()))
            expired = now - oldest.started > self.settings.result_ttl and oldest.future.done()
            if not expired and len(self._jobs) < self.settings.max_jobs:
                break
            self._jobs.popitem(last=False)
            cleanup = oldest.meta.get("cleanup")
            if callable(cleanup):
                cleanup()


def _timeout(seconds: float) -> ApiError:
    return ApiError("TimeoutError", 504, f"the query did not finish within {seconds:g} s")


def _api_error(error: BaseException) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if isinstance(error, MetricQLError):
        return from_metricql(error)
    return ApiError("UnexpectedServerError", 500, "unexpected error while running the query")
