"""The ``webhook_events`` stream: deliveries stored by ``tap-fivetran-meta-webhooks serve``.

The stream reads the receiver's SQLite inbox (setting ``webhook_inbox_path``)
read-only, in ``seq`` order from the bookmark on. ``seq`` is assigned in commit
order, so the bookmark never skips a row that commits later.

The bookmark also holds the inbox's identity (``inbox_id``, created with the inbox):
``{"replication_key": "seq", "replication_key_value": 5, "inbox_id": "9f0c..."}``.
``seq`` restarts at 1 in a new inbox file, so a bookmark from another inbox is not
used: the stream warns and reads the new inbox from its first event. Reading again
is safe, because ``event_id`` is the primary key.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_fivetran_meta.runtime.account_scope import AccountScoped
from tap_fivetran_meta.runtime.sdk_hooks import TapAccess
from tap_fivetran_meta.webhooks.events import PayloadError, load_payload
from tap_fivetran_meta.webhooks.inbox_errors import check_inbox_path
from tap_fivetran_meta.webhooks.store import InboxError, InboxIdentity, open_snapshot

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

INBOX_SETTING = "webhook_inbox_path"
#: The key next to the SDK's bookmark that names the inbox the bookmark belongs to.
INBOX_ID_KEY = "inbox_id"


def resume_after(
    bookmark_seq: int, bookmark_inbox_id: object, identity: InboxIdentity
) -> tuple[int, str | None]:
    """Decide where to resume reading an inbox, given the stored bookmark.

    Args:
        bookmark_seq: The last seq emitted (0 when there is no bookmark).
        bookmark_inbox_id: The inbox id stored with it (None in a state written before
            inbox ids existed).
        identity: The inbox being read.

    Returns:
        ``(after_seq, reason)``: the seq to read after, and why the bookmark is not
        used (None when it is).
    """
    if bookmark_seq <= 0:
        return 0, None
    if (
        bookmark_inbox_id is not None
        and identity.inbox_id is not None
        and bookmark_inbox_id != identity.inbox_id
    ):
        return 0, f"the bookmark belongs to another inbox (id {bookmark_inbox_id})"
    if bookmark_seq > identity.last_seq:
        return 0, (
            f"the bookmark (seq {bookmark_seq}) is beyond anything this inbox ever held "
            f"(highest seq {identity.last_seq})"
        )
    return bookmark_seq, None


def _text(name: str, description: str) -> th.Property:
    return th.Property(name, th.StringType, description=description)


WEBHOOK_EVENT_SCHEMA = th.PropertiesList(
    th.Property(
        "seq",
        th.IntegerType,
        required=True,
        description="Inbox sequence number: increases in the order deliveries were stored.",
    ),
    th.Property(
        "event_id",
        th.StringType,
        required=True,
        description=(
            "sha256 hex of the raw body. Fivetran retries resend identical bodies, "
            "so a retried delivery has the same id and is stored once."
        ),
    ),
    th.Property(
        "received_at",
        th.DateTimeType,
        required=True,
        description="When the receiver stored the delivery (UTC).",
    ),
    _text("event", "Event type, e.g. sync_start, sync_end, connection_failure."),
    th.Property(
        "created",
        th.DateTimeType,
        description="When Fivetran created the event (UTC), from the payload's created.",
    ),
    _text("connector_type", "Connector type (service), e.g. postgres."),
    _text("connection_id", "Connection id: payload connection_id, else connector_id."),
    _text("connection_name", "Connection name: payload connection_name, else connector_name."),
    _text("sync_id", "Id of the sync the event belongs to (sync events)."),
    _text("group_id", "Group (destination) id: payload destination_group_id, else group_id."),
    _text("status", "Payload data.status, e.g. SUCCESSFUL or FAILURE_WITH_TASK on sync_end."),
    _text("reason", "Payload data.reason: the failure text, when there is one."),
    th.Property(
        "signature_verified",
        th.BooleanType,
        required=True,
        description=(
            "True if the receiver checked X-Fivetran-Signature-256 against the secret; "
            "false when it ran without a secret."
        ),
    ),
    th.Property(
        "payload",
        th.ObjectType(),
        description="The whole delivery body as received, parsed.",
    ),
).to_dict()


class WebhookEventsStream(TapAccess, AccountScoped, Stream):
    """Webhook deliveries from the local inbox, incremental on ``seq``."""

    name = "webhook_events"
    primary_keys = ("event_id",)
    replication_key = "seq"
    is_sorted = True
    schema = WEBHOOK_EVENT_SCHEMA

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        inbox = self._inbox_path()
        if inbox is None:
            return
        try:
            with open_snapshot(inbox) as snapshot:
                after = self._resume_point(context, snapshot.identity)
                self.logger.info("Reading %s after seq %d", inbox, after)
                for row in snapshot.events(after_seq=after):
                    yield self._record(row)
            # Every event of the inbox was read (the run log lists it as completed).
            self.services.activation.note_complete(self.name, complete=True)
        except InboxError as exc:
            raise _setting_error(str(exc)) from None

    def _resume_point(self, context: Context | None, identity: InboxIdentity) -> int:
        """Check the bookmark against the inbox and record the inbox id in the state.

        When the bookmark belongs to another inbox it is dropped from the state before
        any record is emitted, so no STATE message can pair the new inbox's id with
        the old inbox's seq.
        """
        state = self.get_context_state(context)
        bookmark = self._bookmark(context)
        after, reason = resume_after(bookmark, state.get(INBOX_ID_KEY), identity)
        if reason is not None:
            self.logger.warning(
                "webhook_events: %s; the inbox %s was probably recreated, so it is read "
                "from its first event (rows already loaded are matched by event_id).",
                reason,
                self.config.get(INBOX_SETTING),
            )
            for key in ("replication_key_value", "starting_replication_value"):
                state.pop(key, None)
        if identity.inbox_id is not None:
            state[INBOX_ID_KEY] = identity.inbox_id
        return after

    def _bookmark(self, context: Context | None) -> int:
        """The last seq already emitted; 0 on the first run.

        Without a bookmark the SDK offers the tap's ``start_date`` instead, which is a
        timestamp and says nothing about ``seq``: the whole inbox is read then.
        """
        value = self.get_starting_replication_key_value(context)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        return 0

    def _inbox_path(self) -> Path | None:
        setting = self.config.get(INBOX_SETTING)
        if not setting:
            self.logger.info("%s is not set; no webhook events to read", INBOX_SETTING)
            return None
        path = Path(setting).expanduser()
        if not path.exists() and path.parent.is_dir():
            self.logger.warning(
                "%s points to %s, which does not exist (has the receiver run yet?)",
                INBOX_SETTING,
                path,
            )
            return None
        try:
            check_inbox_path(path, must_exist=True)
        except InboxError as exc:
            raise _setting_error(str(exc)) from None
        return path

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        record = {key: value for key, value in row.items() if key != "raw_body"}
        record["signature_verified"] = bool(row["signature_verified"])
        try:
            record["payload"] = load_payload(row["raw_body"])
        except PayloadError:
            self.logger.warning("seq %s: stored body is not a JSON object", row["seq"])
            record["payload"] = None
        return record


def _setting_error(problem: str) -> ConfigValidationError:
    """An inbox problem, reported as one line naming the setting (no traceback)."""
    message = f"{INBOX_SETTING}: {problem}"
    return ConfigValidationError(message, errors=[message])
