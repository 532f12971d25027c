"""Writing message lines to a pipe that may stop being read, without ignoring signals.

A message line must never be cut in half by a stop, and the final STATE a stop writes
must come after every line already pending. So while lines are written
(:func:`output_block`), a SIGTERM/SIGINT is *deferred*: the tap's handler records it
(:func:`defer_if_writing`) and it is raised again as soon as the block ends. A target
that stops reading its input would then hold the stop off forever; so a write goes out
in pieces a pipe accepts without blocking (:data:`PIPE_PIECE` bytes, once ``select``
says stdout is writable), and when a stop is deferred and stdout accepts nothing for
:data:`STOP_GRACE_SECONDS`, the run ends at once with exit code 128 + the signal:
nothing more can be delivered (not even a final STATE), and the target already has
every STATE it read.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Bytes written after each ``select``: at most PIPE_BUF, which a writable pipe takes
#: without blocking.
PIPE_PIECE = getattr(select, "PIPE_BUF", 4096)
#: How long a stdout that accepts nothing may delay a requested stop.
STOP_GRACE_SECONDS = 2.0
#: How often a blocked write looks for a held signal.
POLL_SECONDS = 0.25
_LOGGER = logging.getLogger("tap-fivetran-meta")


class _Writing:
    """Main-thread state: how deep in output blocks, and the stop deferred meanwhile."""

    depth = 0
    deferred: int | None = None


@contextlib.contextmanager
def output_block() -> Iterator[None]:
    """Write message lines; a stop signal arriving meanwhile waits until the block ends.

    Only the main thread defers (signal handlers run there); other threads just write.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Writing.depth += 1
    try:
        yield
    finally:
        _Writing.depth -= 1
        if _Writing.depth == 0 and _Writing.deferred is not None:
            signum, _Writing.deferred = _Writing.deferred, None
            signal.raise_signal(signum)  # the handler now runs, outside any write


def defer_if_writing(signum: int) -> bool:
    """From a signal handler: defer ``signum`` if lines are being written (True)."""
    if _Writing.depth == 0:
        return False
    if _Writing.deferred is None:
        _Writing.deferred = signum
    return True


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``fd``; end the process if a stop is held while nobody reads.

    Raises:
        OSError: If the write fails (the reader closed the pipe, a full disk).
    """
    view = memoryview(data)
    stalled_since: float | None = None
    while view:
        _, writable, _ = select.select([], [fd], [], POLL_SECONDS)
        if not writable:
            signum = _Writing.deferred
            now = time.monotonic()
            stalled_since = stalled_since or now
            if signum is not None and now - stalled_since >= STOP_GRACE_SECONDS:
                _exit_blocked(signum)
            continue
        stalled_since = None
        written = os.write(fd, view[:PIPE_PIECE])
        view = view[written:]


def _exit_blocked(signum: int) -> None:
    """A stop was requested and the target reads nothing: end now, one line on stderr."""
    name = signal.Signals(signum).name
    _LOGGER.error(
        "tap-fivetran-meta stopped by %s while the target was not reading its output; "
        "the last STATE it read covers every record before it (exit code %d).",
        name,
        128 + signum,
    )
    for handler in logging.getLogger().handlers + _LOGGER.handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(128 + signum)


#: Write errors that mean "stdout can take nothing more": the reader closed the pipe,
#: the disk behind a redirected stdout is full.
OUTPUT_ERRNOS = frozenset({errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_output_failure(exc: BaseException | None) -> bool:
    """Whether ``exc`` is stdout refusing more output (closed pipe, full disk)."""
    return isinstance(exc, OSError) and (
        isinstance(exc, BrokenPipeError) or exc.errno in OUTPUT_ERRNOS
    )


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that exit does not fail again flushing it."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
