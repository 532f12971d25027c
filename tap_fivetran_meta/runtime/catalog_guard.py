"""A catalog may select and deselect, but not take a stream's primary key apart.

singer-sdk takes ``key_properties`` from the catalog as given (``[]`` leaves a stream
without a key: an upserting target then appends every run's rows as new ones), and a
catalog can mark a key column ``available`` and deselect it (rows then reach the target
without their key). Either is corrected here, before any message is written: the
stream's own key is restored and its columns are selected, with one warning naming
what the catalog asked for.
"""

from __future__ import annotations

from typing import Any

AUTOMATIC = "automatic"


def enforce_declared_keys(stream: Any, entry: Any = None) -> list[str]:
    """Restore ``stream``'s declared primary key and key-column selection.

    Args:
        stream: A singer-sdk stream whose input catalog was applied.
        entry: The stream's entry of the input catalog (its key is restored too, since
            the SDK's stream maps read it from there).

    Returns:
        What was corrected, in words (empty when the catalog kept the key).
    """
    declared = tuple(type(stream).primary_keys or ())
    notes: list[str] = []
    if tuple(stream.primary_keys or ()) != declared:
        notes.append(
            f"key_properties {list(stream.primary_keys or ())} replaced by the stream's "
            f"primary key {list(declared)}"
        )
        stream.primary_keys = declared
    if entry is not None and tuple(entry.key_properties or ()) != declared:
        entry.key_properties = list(declared)
        root = entry.metadata.get(())
        if root is not None:
            root.table_key_properties = list(declared)
    for column in declared:
        entry = stream.metadata.get(("properties", column))
        if entry is None:
            continue
        inclusion = getattr(entry.inclusion, "value", entry.inclusion)
        if entry.selected is False or inclusion != AUTOMATIC:
            if entry.selected is False:
                notes.append(f"key column '{column}' selected again")
            entry.selected = True
            entry.inclusion = type(entry.inclusion)(AUTOMATIC) if entry.inclusion else AUTOMATIC
    return notes
