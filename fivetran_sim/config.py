"""Simulator configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SimConfig:
    """Settings for one simulated Fivetran account and its HTTP server.

    Attributes:
        connections: Number of connections to generate; everything else scales with it.
        seed: Seed for the deterministic generator (same seed, same account).
        api_key: Basic-auth user name the server accepts.
        api_secret: Basic-auth password the server accepts.
        now: Initial simulator clock (aware UTC datetime); ``None`` means "now".
        latency_ms: Delay added to every API request, in milliseconds.
        history_days: How many days of sync history exist before ``now``.
        rate_limit_per_hour: Requests allowed per rolling hour; ``None`` disables the limit.
        port: TCP port to bind on 127.0.0.1; ``0`` picks a free one.
        host: Interface to bind; keep it on loopback.
        system_key: Pretend the credentials are a system key (``system_key_id`` in
            ``/account/info`` instead of ``user_id``).
        min_sync_interval_minutes: Floor on the spacing of generated syncs, so large
            accounts do not produce thousands of syncs per connection.

    Tolerance switches (off by default: the default simulator serves only what
    Fivetran documents; tests of the tap's tolerance turn these on):

    Attributes:
        sync_item_extras: Sync-history items also carry undocumented fields
            (``sync_id``, ``reason``, record counts) some peers expect.
        sync_window_inclusive: Accept a sync-history window of exactly 7 days
            (Fivetran does not say whether it does; by default it is refused).
        prefixed_not_found_codes: Answer ``NotFound_<Entity>`` instead of the bare
            ``NotFound`` for unknown ids.
    """

    connections: int = 50
    seed: int = 7
    api_key: str = "key"
    api_secret: str = "secret"  # noqa: S105 - test credential, not a secret
    now: datetime | None = None
    latency_ms: int = 0
    history_days: int = 21
    rate_limit_per_hour: int | None = 20000
    port: int = 0
    host: str = "127.0.0.1"
    system_key: bool = False
    min_sync_interval_minutes: int = 360
    sync_item_extras: bool = False
    sync_window_inclusive: bool = False
    prefixed_not_found_codes: bool = False


#: A trial account's hourly request limit (paid plans: 20,000).
TRIAL_RATE_LIMIT_PER_HOUR = 500
