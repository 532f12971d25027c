"""Stopping a run on SIGTERM/SIGINT: at once, everywhere, with a non-zero exit code.

A signal is handled on the main thread only, but the tap also waits on worker threads
(see prefetch.py): for the request budget, for pacing, for a ``Retry-After``, for a
backoff. Every such wait goes through :meth:`StopSignal.sleep`, which returns early and
raises :class:`RunInterrupted` once a signal was received, and every request checks
:meth:`StopSignal.check` just before it is sent, so no request leaves after the signal.

The exit code follows the shell convention for a process ended by a signal: 128 plus
the signal number (143 for SIGTERM, 130 for SIGINT), so ``meltano run`` reports the run
as failed instead of taking its partial output for a success.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

#: Seconds the process waits for worker threads to notice the signal before it exits
#: without them (a worker may sit in a socket read for up to ``request_timeout``).
WORKER_GRACE_SECONDS = 1.0


def exit_code_for(signum: int) -> int:
    """The process exit code for a run ended by ``signum`` (128 + signal number)."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    """``SIGTERM``, ``SIGINT``... (the number for an unknown signal)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class RunInterrupted(BaseException):
    """The run was stopped by a signal.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that no ``except Exception``
    on the way up mistakes it for a failed request and retries or skips. It carries
    the :class:`StopSignal` it came from, whose :meth:`StopSignal.finish` the top level
    calls once the stack has unwound.
    """

    def __init__(self, signum: int, stop: StopSignal | None = None) -> None:
        super().__init__(f"stopped by {signal_name(signum)}")
        self.signum = signum
        self.stop = stop

    @property
    def exit_code(self) -> int:
        """143 for SIGTERM, 130 for SIGINT."""
        return exit_code_for(self.signum)

    def finish(self) -> None:
        """Run the stop's finishing steps (write the last STATE...), once."""
        if self.stop is not None:
            self.stop.finish(self)


class StopSignal:
    """A run-wide "stop now" flag that interrupts every wait of every thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self._finishers: list[Callable[[RunInterrupted], None]] = []
        self._finished = False

    @property
    def requested(self) -> bool:
        """Whether a signal asked the run to stop."""
        return self._event.is_set()

    def request(self, signum: int) -> None:
        """Ask every thread to stop (the first signal number is kept)."""
        if self.signum is None:
            self.signum = signum
        self._event.set()

    def halt(self) -> None:
        """Stop every worker's waits and requests after a failed run (no signal involved).

        A run that fails on the main thread must not leave worker threads retrying or
        draining queued requests while the process exits (interpreter exit joins them).
        """
        self._event.set()

    def interrupted(self, signum: int | None = None) -> RunInterrupted:
        """The exception that ends the run (for the first signal received)."""
        return RunInterrupted(signum or self.signum or signal.SIGTERM, self)

    def on_finish(self, finisher: Callable[[RunInterrupted], None]) -> None:
        """Register a step to run once the interrupted run has unwound."""
        self._finishers.append(finisher)

    def finish(self, stopped: RunInterrupted) -> None:
        """Run the registered finishing steps, once, in order."""
        if self._finished:
            return
        self._finished = True
        self.request(stopped.signum)
        for finisher in self._finishers:
            finisher(stopped)

    def check(self) -> None:
        """Raise :class:`RunInterrupted` if a stop was requested.

        Raises:
            RunInterrupted: Once a signal was received.
        """
        if self._event.is_set():
            raise self.interrupted()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if a stop is requested meanwhile.

        Raises:
            RunInterrupted: If a stop was requested before or during the wait.
        """
        self.check()
        if seconds > 0 and self._event.wait(seconds):
            self.check()

    def guard(self, func: Callable[..., T]) -> Callable[..., T]:
        """Wrap a request function so that nothing is sent once a stop was requested."""

        def guarded(*args: Any, **kwargs: Any) -> T:
            self.check()
            return func(*args, **kwargs)

        return guarded


def exit_after_interrupt(code: int, *, grace: float = WORKER_GRACE_SECONDS) -> NoReturn:
    """End the process with ``code`` without waiting long for worker threads.

    Stdout (the STATE written last) and the log handlers are flushed first. Worker
    threads get ``grace`` seconds in all to finish; one still blocked in a socket read
    would otherwise keep the process alive for up to ``request_timeout``, so the
    process then exits without joining it.
    """
    _flush_output()
    deadline = time.monotonic() + grace
    starting = False
    for thread in _other_threads():
        try:
            thread.join(max(0.0, deadline - time.monotonic()))
        except RuntimeError:  # listed while being started: it cannot be joined yet
            starting = True
    if starting or any(thread.is_alive() for thread in _other_threads()):
        _flush_output()
        os._exit(code)
    sys.exit(code)


def _other_threads() -> list[threading.Thread]:
    """Live non-daemon threads besides this one (the ones interpreter exit would join)."""
    current = threading.current_thread()
    return [t for t in threading.enumerate() if t is not current and not t.daemon]


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    for handler in logging.getLogger().handlers + logging.getLogger("tap-fivetran-meta").handlers:
        with contextlib.suppress(Exception):
            handler.flush()
