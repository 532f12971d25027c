"""Fixtures for the webhook tests: an in-process receiver on a free loopback port."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from webhook_helpers import SECRET, RunningReceiver

from tap_fivetran_meta.webhooks.receiver import ReceiverConfig, WebhookServer, serve_until
from tap_fivetran_meta.webhooks.store import Inbox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[Callable[..., RunningReceiver]]:
    running: list[RunningReceiver] = []

    def _start(inbox: Any = None, **overrides: Any) -> RunningReceiver:
        settings: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "secret": SECRET}
        settings.update(overrides)
        inbox_path = tmp_path / "inbox.sqlite"
        store = inbox if inbox is not None else Inbox(inbox_path)
        server = WebhookServer(ReceiverConfig(**settings), store)
        stop = threading.Event()
        thread = threading.Thread(target=serve_until, args=(server, stop), kwargs={"poll_s": 0.05})
        thread.start()
        receiver = RunningReceiver(server, store, stop, thread, inbox_path)
        running.append(receiver)
        return receiver

    yield _start
    for receiver in running:
        receiver.stop.set()
        receiver.thread.join(15)
        receiver.inbox.close()
        assert not receiver.thread.is_alive()


@pytest.fixture
def receiver(start_receiver: Callable[..., RunningReceiver]) -> RunningReceiver:
    return start_receiver()


@pytest.fixture
def inbox_path(tmp_path: Path) -> Path:
    return tmp_path / "inbox.sqlite"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory an unprivileged user can enter (pytest's tmp_path may not be)."""
    path = Path(tempfile.mkdtemp(prefix="webhooks-"))
    os.chmod(path, 0o755)  # noqa: S103  (world-readable on purpose: another user reads it)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
