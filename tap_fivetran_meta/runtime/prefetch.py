"""Concurrent per-parent fetching with deterministic output.

The SDK syncs child streams depth-first: for each parent record, each child makes its
requests, one after the other. With thousands of connections those per-connection
requests are the whole cost of a run. Here a parent stream reads ``lookahead`` records
ahead and hands each child's request work for those records to a thread pool; when the
SDK then syncs the child for a record, the child *takes* the finished result instead of
asking the API itself. Only HTTP I/O runs in parallel: records, state and their order are
produced by the SDK on the main thread exactly as in a sequential run, and at most
``lookahead`` parents' results are held at once, so memory does not grow with the account.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

T = TypeVar("T")


class Prefetcher:
    """A bounded set of in-flight child fetches, keyed by (what, parent id)."""

    def __init__(self, max_concurrency: int, *, lookahead_per_worker: int = 4) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.lookahead = self.max_concurrency * lookahead_per_worker
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()
        self.submitted = 0
        self.taken_ahead = 0

    @property
    def enabled(self) -> bool:
        """Whether fetches run ahead on worker threads (max_concurrency > 1)."""
        return self.max_concurrency > 1

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.max_concurrency, thread_name_prefix="tap-fivetran-meta-fetch"
            )
        return self._pool

    def submit(self, key: Hashable, job: Callable[[], Any]) -> None:
        """Start ``job`` in the background unless the same key is already pending."""
        if not self.enabled:
            return
        with self._lock:
            if key in self._pending:
                return
            self._pending[key] = self._executor().submit(job)
            self.submitted += 1

    def submit_all(self, jobs: Iterable[tuple[Hashable, Callable[[], Any]]]) -> None:
        """Start several jobs (one parent's) as one task, run one after the other.

        Each keeps its own key and result; one task instead of one per job means fewer
        thread hand-overs for the same requests.
        """
        if not self.enabled:
            return
        runs: list[tuple[Future[Any], Callable[[], Any]]] = []
        with self._lock:
            for key, job in jobs:
                if key not in self._pending:
                    future: Future[Any] = Future()
                    self._pending[key] = future
                    runs.append((future, job))
            self.submitted += len(runs)
        if runs:
            self._executor().submit(_run_in_order, runs)

    def take(self, key: Hashable, job: Callable[[], T]) -> T:
        """The result of the fetch for ``key``: prefetched if it was, else run now.

        An exception raised by a prefetched job is raised here, at the point where a
        sequential run would have raised it.
        """
        with self._lock:
            future = self._pending.pop(key, None)
        if future is None:
            return job()
        self.taken_ahead += 1
        return future.result()

    def is_pending(self, key: Hashable) -> bool:
        """Whether a fetch for ``key`` was started and not taken yet."""
        with self._lock:
            return key in self._pending

    def cancel_pending(self, *, keep: str | None = None) -> None:
        """Drop fetches nobody will take (a run that stops early).

        Args:
            keep: Keys whose first element is this stay pending (e.g. ``"list"``: the
                account-level lists read ahead for streams that have not synced yet).
        """
        with self._lock:
            dropped = {
                key: future
                for key, future in self._pending.items()
                if keep is None or not (isinstance(key, tuple) and key[:1] == (keep,))
            }
            for key in dropped:
                del self._pending[key]
        for future in dropped.values():
            future.cancel()

    def abandon(self) -> None:
        """Stop at once (the run was interrupted): drop queued work, do not wait for it.

        Jobs already running end at their next wait or request (see shutdown.py).
        """
        self.cancel_pending()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def shutdown(self) -> None:
        """Cancel what has not started and release the worker threads."""
        self.cancel_pending()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _run_in_order(runs: list[tuple[Future[Any], Callable[[], Any]]]) -> None:
    for future, job in runs:
        if not future.set_running_or_notify_cancel():
            continue  # cancelled while waiting
        try:
            future.set_result(job())
        except BaseException as exc:
            future.set_exception(exc)


def read_ahead(records: Iterable[T], plan: Callable[[T], bool], lookahead: int) -> Iterator[T]:
    """Yield ``records`` unchanged, calling ``plan`` on each ``lookahead`` records early.

    ``plan`` returns False when some of the record's work could not be planned yet (a
    child waits for its first answer); such records are planned again after each record
    handed on, until they succeed or are handed on themselves.
    """
    buffer: deque[tuple[T, bool]] = deque()

    def replan() -> None:
        for index, (record, planned) in enumerate(buffer):
            if not planned:
                buffer[index] = (record, plan(record))

    for record in records:
        buffer.append((record, plan(record)))
        if len(buffer) > lookahead:
            yield buffer.popleft()[0]
            replan()
    while buffer:
        yield buffer.popleft()[0]
        replan()
