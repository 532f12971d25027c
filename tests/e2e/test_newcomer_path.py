"""README's "Install and run with Meltano" path, line by line, on a fresh copy of the repo.

The commands are read from README.md (between the ``meltano-postgres-path`` markers) and
run as written in a copy of the working tree, with four substitutions a reader makes too:
the PostgreSQL host/port/password/database of the throwaway server, and the API key and
secret written into ``.env``; ``.env`` also gets ``TAP_FIVETRAN_META_API_URL`` pointing at
the simulator (a real user keeps the default). Each step's duration is printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from fivetran_sim import SimConfig, Simulator

from conftest import ROOT, _base_env

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEY, SECRET = "newcomer-key", "newcomer-secret-never-printed"
ENTITY_STREAMS = ("account", "groups", "destinations", "connections", "users", "roles")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- meltano-postgres-path -->")[1].split(
        "<!-- /meltano-postgres-path -->"
    )[0]
    body = block.split("```sh\n")[1].split("```")[0]
    return [line for line in body.splitlines() if line.strip()]


def fresh_copy(destination: Path) -> Path:
    """The repository as a fresh clone would have it: tracked and new, unignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@dataclass
class Project:
    """The copy after the README's path ran, and what it printed."""

    path: Path
    database: str
    dsn: str
    sim: Simulator
    output: str
    timings: list[tuple[str, float]]
    env: dict[str, str]

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql).fetchall()

    def count(self, schema: str, table: str) -> int:
        return int(self.query(f'select count(*) from "{schema}"."{table}"')[0][0])

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.path / ".venv" / "bin" / "meltano"), *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def script_for(commands: list[str], pg: dict[str, str]) -> str:
    """The README lines as one bash script, with the reader's values and step markers."""
    lines = ["set -euo pipefail"]
    for index, command in enumerate(commands):
        if command.startswith("git clone"):
            continue  # the copy stands for the clone; the test runs inside it
        line = command.split("  #")[0].strip()
        line = line.replace("localhost", pg["host"]).replace("5432", pg["port"])
        line = line.replace("'your-password'", pg["password"])
        line = re.sub(r"\bwarehouse\b", pg["database"], line)
        lines.append(f"echo '##step {index} '$(date +%s.%N)' {command.split('  #')[0].strip()}'")
        lines.append(line)
        if line.startswith("cp .env.example .env"):
            lines.append(pg["fill_env"])
    lines.append("echo '##step end '$(date +%s.%N)")
    return "\n".join(lines) + "\n"


def _timings(output: str) -> list[tuple[str, float]]:
    marks = re.findall(r"^##step (\S+) (\d+\.\d+) ?(.*)$", output, re.MULTILINE)
    return [
        (marks[i][2], float(marks[i + 1][1]) - float(marks[i][1])) for i in range(len(marks) - 1)
    ]


@pytest.fixture(scope="module")
def project(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    path = fresh_copy(tmp_path_factory.mktemp("newcomer") / "tap-fivetran-meta")
    dsn = urlparse(pg_dsn)
    database = f"newcomer_{uuid.uuid4().hex[:8]}"
    config = SimConfig(connections=12, seed=5, api_key=KEY, api_secret=SECRET, system_key=True)
    with Simulator(config) as sim:
        fill_env = (
            f"sed -i -e 's|^TAP_FIVETRAN_META_API_KEY=.*|TAP_FIVETRAN_META_API_KEY={KEY}|' "
            f"-e 's|^TAP_FIVETRAN_META_API_SECRET=.*|TAP_FIVETRAN_META_API_SECRET={SECRET}|' .env"
            f" && echo 'TAP_FIVETRAN_META_API_URL={sim.url}' >> .env"
        )
        pg = {
            "host": dsn.hostname or "127.0.0.1",
            "port": str(dsn.port or 5432),
            "password": dsn.password or "postgres",
            "database": database,
            "fill_env": fill_env,
        }
        env = {k: v for k, v in _base_env().items() if k not in {"VIRTUAL_ENV", "PGPASSWORD"}}
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if ".venv" not in p
        )
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-c", script_for(readme_commands(), pg)],
            cwd=path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        output = result.stdout + result.stderr
        timings = _timings(result.stdout)
        print(f"\nREADME path, {time.monotonic() - started:.1f} s in all:")
        for step, seconds in timings:
            print(f"  {seconds:6.1f} s  {step}")
        assert result.returncode == 0, output[-6000:]
        try:
            yield Project(
                path, database, pg_dsn.rsplit("/", 1)[0] + f"/{database}", sim, output, timings, env
            )
        finally:
            subprocess.run(
                [
                    "dropdb",
                    "-h",
                    pg["host"],
                    "-p",
                    pg["port"],
                    "-U",
                    "postgres",
                    "--if-exists",
                    database,
                ],
                env=env,
                check=False,
                capture_output=True,
            )


def test_readme_path_lands_the_account_in_postgres(project: Project) -> None:
    expected = project.sim.expected_counts()
    for stream in ENTITY_STREAMS:
        assert project.count("fivetran_meta", stream) == expected[stream], stream
    assert "Connected to Fivetran account" in project.output
    assert "with a system key" in project.output
    assert SECRET not in project.output
    assert "Traceback" not in project.output
    assert "Need either the sqlalchemy_url" not in project.output
    dotenv = (project.path / ".env").read_text()
    assert re.search(r"^TARGET_POSTGRES_PASSWORD=.+", dotenv, re.MULTILINE)  # where `set` put it
    assert re.search(r"^TARGET_POSTGRES_DATABASE=.+", dotenv, re.MULTILINE)
    # Per-user values went to .env: meltano.yml is untouched, comments and all.
    assert (project.path / "meltano.yml").read_text() == (ROOT / "meltano.yml").read_text()
    assert "Ignoring unknown" not in project.output  # Meltano's config has no stray keys


def test_the_schedule_runs_the_readme_pull_as_a_job(project: Project) -> None:
    # The job's one task is the README's `meltano run` line, which the fixture ran.
    listed = project.run("schedule", "list", "--format=json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    schedules = {s["name"]: s for s in json.loads(listed.stdout)["schedules"]["job"]}
    hourly = schedules["fivetran-meta-hourly"]
    assert hourly["cron_interval"] == "0 * * * *"
    assert hourly["job"] == {
        "name": "fivetran-meta",
        "tasks": ["tap-fivetran-meta target-postgres"],
    }


def test_a_second_account_has_its_own_config_and_state(project: Project) -> None:
    meltano_yml = project.path / "meltano.yml"
    meltano_yml.write_text(
        meltano_yml.read_text().replace(
            "  loaders:\n",
            "  - name: tap-fivetran-meta--eu\n    inherit_from: tap-fivetran-meta\n  loaders:\n",
            1,
        )
    )
    other = SimConfig(connections=4, seed=9, api_key="eu-key", api_secret="eu-secret")
    with Simulator(other) as eu:
        env = {
            "TAP_FIVETRAN_META__EU_API_KEY": "eu-key",
            "TAP_FIVETRAN_META__EU_API_SECRET": "eu-secret",
            "TAP_FIVETRAN_META__EU_API_URL": eu.url,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "fivetran_meta_eu",
        }
        result = project.run("run", "tap-fivetran-meta--eu", "target-postgres", env=env)
        assert result.returncode == 0, result.stderr[-4000:]
        assert (
            project.count("fivetran_meta_eu", "connections") == eu.expected_counts()["connections"]
        )
    states = project.run("state", "list")
    assert "dev:tap-fivetran-meta--eu-to-target-postgres" in states.stdout
    assert "dev:tap-fivetran-meta-to-target-postgres" in states.stdout
    first = project.sim.expected_counts()["connections"]
    assert project.count("fivetran_meta", "connections") == first  # the first account untouched


def test_meltano_config_test_shows_the_taps_one_line_when_invalid(project: Project) -> None:
    wrong = project.run(
        "config", "test", "tap-fivetran-meta", env={"TAP_FIVETRAN_META_API_SECRET": "wrong-one"}
    )
    assert wrong.returncode != 0
    assert "Plugin configuration is invalid" in wrong.stderr
    assert "Fivetran rejected the API credentials" in wrong.stderr
    assert "Traceback" not in wrong.stderr
