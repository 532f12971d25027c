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
