"""The exit after a signal never fails on a worker thread that is just being started.

Seen under load (both cores busy): a read-ahead worker listed by threading.enumerate()
while the pool was still starting it; joining it raised "cannot join thread before it is
started", and the tap exited 1 with a traceback instead of 143.
"""

from __future__ import annotations

import threading

import pytest

from tap_fivetran_meta.runtime import shutdown


class Exited(Exception):
    def __init__(self, how: str, code: int) -> None:
        super().__init__(how, code)
        self.how = how
        self.code = code


def _exits(monkeypatch: pytest.MonkeyPatch, threads: list[threading.Thread]) -> Exited:
    def hard_exit(code: int) -> None:
        raise Exited("os._exit", code)

    def soft_exit(code: int) -> None:
        raise Exited("sys.exit", code)

    monkeypatch.setattr(shutdown, "_other_threads", lambda: threads)
    monkeypatch.setattr(shutdown.os, "_exit", hard_exit)
    monkeypatch.setattr(shutdown.sys, "exit", soft_exit)
    with pytest.raises(Exited) as exited:
        shutdown.exit_after_interrupt(143, grace=0.01)
    return exited.value


def test_a_thread_being_started_is_not_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    not_started = threading.Thread(target=lambda: None)  # as enumerate() lists one in limbo
    exited = _exits(monkeypatch, [not_started])
    # Not joinable, so it may run on: leave without waiting for it.
    assert (exited.how, exited.code) == ("os._exit", 143)


def test_no_worker_left_exits_normally(monkeypatch: pytest.MonkeyPatch) -> None:
    done = threading.Thread(target=lambda: None)
    done.start()
    done.join()
    exited = _exits(monkeypatch, [done])
    assert (exited.how, exited.code) == ("sys.exit", 143)
