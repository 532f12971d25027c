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

from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.timeutil import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"
#: Keys the SDK writes into a partition during a run; none is a bookmark.
TRANSIENT_KEYS = ("progress_markers", "replication_key_signpost", "starting_replication_value")


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
