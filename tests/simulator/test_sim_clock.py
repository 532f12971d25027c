"""The admin `advance` reply warns once the simulated clock passes the real one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests
from sim_helpers import make_config

from fivetran_sim import Simulator


def test_advance_warns_only_when_ahead_of_the_wall_clock() -> None:
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    with Simulator(make_config(connections=5, now=two_days_ago)) as sim:
        behind = requests.post(sim.admin_url + "/advance", json={"minutes": 60}, timeout=5)
        assert behind.status_code == 200
        assert "warning" not in behind.json()
        ahead = requests.post(
            sim.admin_url + "/advance", json={"minutes": 3 * 24 * 60}, timeout=5
        ).json()
    assert 23 * 60 <= ahead["ahead_of_wall_clock_minutes"] <= 25 * 60
    assert "earlier --now" in ahead["warning"]
