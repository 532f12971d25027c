"""Users, teams, roles, memberships and webhooks."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from singer_sdk import typing as th

from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.rules import redact
from tap_fivetran_meta.schemas.fragments import DT, MEMBERSHIP_FIELDS, key, prop

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable

    from singer_sdk.helpers.types import Context


class UsersStream(FivetranStream):
    """Users of the account."""

    name = "users"
    path = "/users"
    primary_keys = ("id",)
    timestamp_fields = ("created_at", "logged_in_at")
    permission_hint = "USER at READ"
    schema = th.PropertiesList(
        key("id", "User id."),
        prop("email", th.StringType, "E-mail address."),
        prop("given_name", th.StringType, "Given name."),
        prop("family_name", th.StringType, "Family name."),
        prop("verified", th.BooleanType, "Whether the e-mail is verified."),
        prop("invited", th.BooleanType, "Whether the user is invited but not joined."),
        prop("picture", th.StringType, "Picture URL."),
        prop("phone", th.StringType, "Phone number."),
        prop("role", th.StringType, "Account role, e.g. 'Account Administrator'."),
        prop("active", th.BooleanType, "Whether the user is active."),
        prop("logged_in_at", DT, "Last login (UTC)."),
        prop("created_at", DT, "When the user was created (UTC)."),
    ).to_dict()

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict:
        return {"user_id": record["id"]}


class TeamsStream(FivetranStream):
    """Teams (plan-gated on some accounts)."""

    name = "teams"
    path = "/teams"
    primary_keys = ("id",)
    optional_resource = True
    schema = th.PropertiesList(
        key("id", "Team id."),
        prop("name", th.StringType, "Team name."),
        prop("description", th.StringType, "Team description."),
        prop("role", th.StringType, "Account role of the team."),
    ).to_dict()

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict:
        return {"team_id": record["id"]}


class _MembershipStream(FivetranStream):
    """One stream over several membership endpoints of one parent, with a ``kind`` column.

    Subclasses map each ``kind`` to the path segment that lists it.
    """

    narrowed_by_filters = True

    tolerate_not_found = True
    optional_resource = True
    timestamp_fields = ("created_at",)
    state_partitioning_keys = ()
    parent_key: str = ""
    kinds: dict[str, str] = {}  # noqa: RUF012 - read-only per subclass

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        parent_id = str((context or {})[self.parent_key])
        fetched = self.services.prefetcher.take(
            self._prefetch_key(parent_id), lambda: self._fetch_all(parent_id, context)
        )
        for kind, items in fetched:
            for item in items:
                object_id = item.get("user_id") if kind == "user" else item.get("id")
                if not self._accepts(kind, object_id):
                    continue
                yield {
                    self.parent_key: parent_id,
                    "kind": kind,
                    "object_id": object_id,
                    "role": item.get("role"),
                    "created_at": item.get("created_at"),
                }

    @override
    def prefetch_jobs(self, context: dict[str, Any]) -> Iterable[tuple[Hashable, Any]]:
        parent_id = str(context[self.parent_key])
        yield self._prefetch_key(parent_id), lambda: self._fetch_all(parent_id, context)

    def _prefetch_key(self, parent_id: str) -> tuple[str, str]:
        return (self.name, parent_id)

    def _fetch_all(
        self, parent_id: str, context: Context | None
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        base = self.path.format(**{self.parent_key: quote(parent_id, safe="")})
        return [
            (kind, self.fetch_list(f"{base}/{segment}", context))
            for kind, segment in self.kinds.items()
        ]

    def _accepts(self, kind: str, object_id: str | None) -> bool:
        filters = self.services.filters
        if kind == "group":
            return filters.accepts_group(object_id)
        if kind == "connection" and filters.filters_connections:
            return self.services.connection_index.accepts(object_id, filters)
        return True


class UserMembershipsStream(_MembershipStream):
    """Which groups and connections each user has a role on."""

    name = "user_memberships"
    path = "/users/{user_id}"
    parent_stream_type = UsersStream
    primary_keys = ("user_id", "kind", "object_id")
    parent_key = "user_id"
    kinds = {"group": "groups", "connection": "connections"}  # noqa: RUF012
    schema = th.PropertiesList(
        key("user_id", "User id."),
        key("kind", "'group' or 'connection'."),
        key("object_id", "Group id or connection id."),
        *MEMBERSHIP_FIELDS,
    ).to_dict()


class TeamMembershipsStream(_MembershipStream):
    """Team members (users) and the groups and connections a team has a role on."""

    name = "team_memberships"
    path = "/teams/{team_id}"
    parent_stream_type = TeamsStream
    primary_keys = ("team_id", "kind", "object_id")
    parent_key = "team_id"
    kinds = {"user": "users", "group": "groups", "connection": "connections"}  # noqa: RUF012
    schema = th.PropertiesList(
        key("team_id", "Team id."),
        key("kind", "'user', 'group' or 'connection'."),
        key("object_id", "User id, group id or connection id."),
        *MEMBERSHIP_FIELDS,
    ).to_dict()


class RolesStream(FivetranStream):
    """Roles, standard and custom.

    The API has no role id and every account has the same standard role names, so the
    key is ``(account_id, name)``: several accounts can share one table.
    """

    name = "roles"
    path = "/roles"
    primary_keys = ("account_id", "name")
    optional_resource = True
    schema = th.PropertiesList(
        key("name", "Role name (unique within the account)."),
        prop("description", th.StringType, "What the role allows."),
        prop("scope", th.ArrayType(th.StringType), "ACCOUNT, DESTINATION, CONNECTOR, TEAM."),
        prop("is_custom", th.BooleanType, "Whether the role is custom."),
        prop("is_deprecated", th.BooleanType, "Whether the role is deprecated."),
        prop("replacement_role_name", th.StringType, "Role replacing a deprecated one."),
    ).to_dict()


class WebhooksStream(FivetranStream):
    """Webhooks (never their secret)."""

    narrowed_by_filters = True

    name = "webhooks"
    path = "/webhooks"
    primary_keys = ("id",)
    optional_resource = True
    timestamp_fields = ("created_at",)
    schema = th.PropertiesList(
        key("id", "Webhook id."),
        prop("type", th.StringType, "'account' or 'group'."),
        prop("group_id", th.StringType, "Group of a group webhook."),
        prop("url", th.StringType, "Delivery URL."),
        prop("events", th.ArrayType(th.StringType), "Subscribed events."),
        prop("active", th.BooleanType, "Whether deliveries are on."),
        prop("created_at", DT, "When the webhook was created (UTC)."),
        prop("created_by", th.StringType, "User who created it."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row.pop("secret", None)
        row["url"] = redact.scrub_url(row.get("url"))  # ?token=, user:pass@
        if row.get("group_id") and not self.services.filters.accepts_group(row["group_id"]):
            return None
        return super().post_process(row, context)
