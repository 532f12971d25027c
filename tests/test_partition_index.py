"""The indexed state manager finds and creates partitions exactly as the SDK does."""

from __future__ import annotations

from singer_sdk.streams._state import StreamStateManager

from tap_fivetran_meta.runtime.sdk_hooks import IndexedStateManager


def managers(state: dict) -> tuple[StreamStateManager, IndexedStateManager]:
    kwargs = {
        "tap_name": "t",
        "stream_name": "s",
        "state_partitioning_keys": ("connection_id",),
        "is_sorted": False,
        "check_sorted": False,
    }
    return (
        StreamStateManager(tap_state=state["sdk"], **kwargs),
        IndexedStateManager(tap_state=state["ours"], **kwargs),
    )


def test_same_partitions_same_order_same_objects() -> None:
    existing = {"bookmarks": {"s": {"partitions": [{"context": {"connection_id": "b"}, "x": 1}]}}}
    state = {
        "sdk": {
            "bookmarks": {"s": {"partitions": [dict(existing["bookmarks"]["s"]["partitions"][0])]}}
        },
        "ours": existing,
    }
    sdk, ours = managers(state)
    for cid in ["a", "b", "c", "a", "b", "d"]:
        context = {"connection_id": cid, "group_id": "g", "service": "x"}
        sdk.get_context_state(context)["n"] = sdk.get_context_state(context).get("n", 0) + 1
        ours.get_context_state(context)["n"] = ours.get_context_state(context).get("n", 0) + 1
    assert state["ours"] == state["sdk"]
    assert [
        p["context"]["connection_id"] for p in state["ours"]["bookmarks"]["s"]["partitions"]
    ] == ["b", "a", "c", "d"]


def test_peek_never_creates() -> None:
    state = {"sdk": {}, "ours": {}}
    _, ours = managers(state)
    assert ours.peek_context_state({"connection_id": "zz"}) is None
    assert state["ours"].get("bookmarks", {}).get("s", {}).get("partitions") in (None, [])
    ours.get_context_state({"connection_id": "zz"})["v"] = 3
    assert ours.peek_context_state({"connection_id": "zz", "other": 1}) == {
        "context": {"connection_id": "zz"},
        "v": 3,
    }


def test_index_follows_a_replaced_partitions_list() -> None:
    state = {"sdk": {}, "ours": {}}
    _, ours = managers(state)
    ours.get_context_state({"connection_id": "a"})["v"] = 1
    state["ours"]["bookmarks"]["s"]["partitions"] = [{"context": {"connection_id": "a"}, "v": 9}]
    assert ours.get_context_state({"connection_id": "a"})["v"] == 9
