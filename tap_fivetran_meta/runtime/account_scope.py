"""``account_id`` on every row of every stream, so several accounts can share one schema.

Stream classes get the column when they are defined (:meth:`AccountScoped.__init_subclass__`
adds it to the class's ``schema``) and every record gets the value in ``post_process``: no
stream declares or fills it itself. The value is the tap's account (``GET /account/info``,
asked once per run by the ``account`` stream, the first time a record needs it: a run that
emits no record, ``--discover`` and ``--about`` make no request for it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

ACCOUNT_ID = "account_id"
ACCOUNT_ID_SCHEMA: dict[str, Any] = {
    "type": ["string"],
    "description": "Fivetran account the row belongs to (account_id of /account/info).",
}


def with_account_id(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stream schema with a required ``account_id`` column first.

    A schema that already has the column (the ``account`` stream's key) is returned as is.
    """
    properties = schema.get("properties") or {}
    if ACCOUNT_ID in properties:
        return schema
    required = [ACCOUNT_ID, *(name for name in schema.get("required") or () if name != ACCOUNT_ID)]
    return {
        **schema,
        "properties": {ACCOUNT_ID: dict(ACCOUNT_ID_SCHEMA), **properties},
        "required": required,
    }


class AccountScoped:
    """Stream mixin: ``account_id`` in the schema and on every record.

    List it before the SDK stream class among the bases. A subclass overriding
    ``post_process`` calls ``super().post_process`` (as every stream here does for the
    other shared steps); records it drops (None) get nothing.
    """

    services: Any  # the tap's run-wide objects (sdk_hooks.TapAccess)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("schema")
        if isinstance(schema, dict):
            cls.schema = with_account_id(schema)  # type: ignore[attr-defined]

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Stamp the record with the tap's account id (after the other processing)."""
        processed: dict | None = super().post_process(row, context)  # type: ignore[misc]
        if processed is not None:
            processed[ACCOUNT_ID] = self.services.account_id
        return processed
