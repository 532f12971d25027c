"""O(1) lookup of per-connection state partitions.

The SDK finds a context's state partition by scanning the stream's whole partitions list,
several times per context. With one partition per connection that is quadratic: at 5,000
connections most of the tap's CPU went into comparing context dicts. This state manager
keeps a dict from partition context to the (same, mutable) partition entry; the entries
and the list stay the SDK's own, so STATE messages are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._state import get_state_partitions_list
from singer_sdk.streams._state import StreamStateManager

if TYPE_CHECKING:
    from singer_sdk.helpers import types

_Key = tuple[tuple[str, Any], ...]


def _key(context: types.Context) -> _Key:
    return tuple(sorted(context.items()))


class IndexedStateManager(StreamStateManager):
    """A stream state manager whose partition lookups use an index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: dict[_Key, dict] = {}
        self._indexed_list: list[dict] | None = None

    def _partitions_index(self) -> dict[_Key, dict]:
        partitions = get_state_partitions_list(self.tap_state, self.stream_name)
        if partitions is not self._indexed_list:  # first use, or the SDK replaced the list
            self._indexed_list = partitions
            self._index = {_key(p["context"]): p for p in partitions or () if "context" in p}
        return self._index

    def get_context_state(self, context: types.Context | None) -> dict:
        """The writable partition for ``context`` (created when missing, as the SDK does)."""
        partition_context = self.get_state_partition_context(context)
        if not partition_context:
            return super().get_context_state(context)
        key = _key(partition_context)
        found = self._partitions_index().get(key)
        if found is not None:
            return found
        partitions: list[dict] = self.stream_state.setdefault("partitions", [])
        created: dict = {"context": dict(partition_context)}
        partitions.append(created)
        if partitions is self._indexed_list:
            self._index[key] = created
        return created

    def peek_context_state(self, context: types.Context) -> dict | None:
        """The partition for ``context`` if it exists; never creates one."""
        partition_context = self.get_state_partition_context(context)
        if not partition_context:
            return None
        return self._partitions_index().get(_key(partition_context))


class IndexedPartitionsMixin:
    """Give a partitioned stream an :class:`IndexedStateManager`.

    The streams using it commit their bookmarks themselves (partition_state.py), so the
    SDK's per-context signpost and starting value, which they would only clear again,
    are not written either.
    """

    _state_manager: StreamStateManager | None

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: bookmarks are committed by the stream, never promoted by the SDK."""
        return

    def _write_starting_replication_value(self, context: types.Context | None) -> None:
        """Nothing: the stream reads its bookmark from the partition itself."""

    @property
    def state_manager(self) -> StreamStateManager:
        """The stream's state manager (indexed)."""
        if self._state_manager is None:
            stream: Any = self
            self._state_manager = IndexedStateManager(
                tap_name=stream.tap_name,
                stream_name=stream.name,
                tap_state=stream._tap_state,
                state_partitioning_keys=stream.state_partitioning_keys,
                is_sorted=stream.is_sorted,
                check_sorted=stream.check_sorted,
            )
        return self._state_manager
