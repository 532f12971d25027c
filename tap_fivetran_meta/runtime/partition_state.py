"""Per-connection bookmarks written by the history streams themselves (pure dict logic).

The SDK keeps a child stream's bookmark in ``bookmarks.<stream>.partitions[]``, one
entry per ``{"connection_id": ...}``. For a child whose context has more keys than
its partitioning keys, SDK 0.54 only tracks *progress markers* and promotes them
after the whole tap finished, to the highest replication-key value seen (capped by
a signpost). That cannot hold a bookmark at a running sync, lets overlap rows move
it backwards, and loses all progress of an interrupted run. The history streams
therefore write each connection's final bookmark right after that connection's
last record, with these helpers, and keep the SDK's run-time markers out of state.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.rules.timeutil import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"
#: Keys the SDK writes into a partition during a run; none is a bookmark.
TRANSIENT_KEYS = ("progress_markers", "replication_key_signpost", "starting_replication_value")
#: The (UTC) day a run last processed the partition's connection: ``2026-11-27``.
SEEN_KEY = "seen_on"


def bookmark_value(partition: Mapping[str, Any], replication_key: str) -> Any:
    """The committed bookmark value, or None (none yet, or for another replication key)."""
    if partition.get(REPLICATION_KEY) != replication_key:
        return None
    return partition.get(REPLICATION_KEY_VALUE)


def bookmark_timestamp(partition: Mapping[str, Any], replication_key: str) -> datetime | None:
    """The committed bookmark as an aware UTC datetime (None when absent or unparseable)."""
    return parse_timestamp(bookmark_value(partition, replication_key))


def clear_transient(partition: dict[str, Any]) -> None:
    """Drop the SDK's run-time markers (progress markers, signpost, starting value)."""
    for key in TRANSIENT_KEYS:
        partition.pop(key, None)


def commit(partition: dict[str, Any], replication_key: str, value: Any, **extra: Any) -> None:
    """Write a connection's bookmark (and extra per-connection keys) as final.

    Args:
        partition: The partition's state dict (``{"context": {...}, ...}``), in place.
        replication_key: The stream's replication key.
        value: The new bookmark value (JSON-compatible).
        **extra: Other keys to keep in the partition, e.g. a status fingerprint.
    """
    clear_transient(partition)
    partition[REPLICATION_KEY] = replication_key
    partition[REPLICATION_KEY_VALUE] = value
    partition.update(extra)


def mark_seen(partition: dict[str, Any], day: date) -> None:
    """Record that this run processed the partition's connection (see :func:`prune`)."""
    partition[SEEN_KEY] = day.isoformat()


def last_seen(partition: Mapping[str, Any], *, bookmark_key: str | None) -> date | None:
    """The day the partition's connection was last seen, as far as state tells.

    ``seen_on`` when the partition has it; for a partition written before it existed,
    the day of its bookmark if ``bookmark_key`` says the bookmark moves on every run
    that reads the connection (sync_history's does), else None (unknown).
    """
    seen = partition.get(SEEN_KEY)
    if isinstance(seen, str):
        try:
            return date.fromisoformat(seen)
        except ValueError:
            pass
    if bookmark_key is None:
        return None
    stamp = bookmark_timestamp(partition, bookmark_key)
    return None if stamp is None else stamp.date()


def prune(
    stream_state: dict[str, Any],
    *,
    today: date,
    max_age_days: int,
    bookmark_key: str | None = None,
    keep: Callable[[Mapping[str, Any]], bool] | None = None,
) -> int:
    """Drop the partitions of connections not seen for more than ``max_age_days``.

    A partition whose last sighting is unknown (written before ``seen_on`` existed,
    with no bookmark that tells, or dated in the future) is kept and its clock starts
    today. The partitions
    list is replaced, not edited, so indexes over it notice (partition_index.py).

    Args:
        stream_state: One stream's state (``{"partitions": [...]}``), in place.
        today: The run's (UTC) day.
        max_age_days: Days after which an unseen connection is forgotten (0: never).
        bookmark_key: See :func:`last_seen`.
        keep: Partitions it accepts are kept however long ago they were seen (the
            stream still needs them, e.g. to write a deleted connection's row).

    Returns:
        How many partitions were dropped.
    """
    partitions = stream_state.get("partitions")
    if max_age_days <= 0 or not isinstance(partitions, list):
        return 0
    cutoff = today - timedelta(days=max_age_days)
    kept = []
    for partition in partitions:
        seen = (
            last_seen(partition, bookmark_key=bookmark_key) if isinstance(partition, dict) else None
        )
        if seen is not None and seen > today:
            seen = None  # a day in the future says nothing; it would keep the partition forever
        if seen is None and isinstance(partition, dict):
            mark_seen(partition, today)
        if seen is None or seen >= cutoff or (keep is not None and keep(partition)):
            kept.append(partition)
    dropped = len(partitions) - len(kept)
    if dropped:
        stream_state["partitions"] = kept
    return dropped
