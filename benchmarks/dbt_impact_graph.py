"""Cost of ``fivetran_meta__dbt_impact`` on a large dbt project, offline (DuckDB).

    .venv/bin/python benchmarks/dbt_impact_graph.py --sources 100 --models 2000 --exposures 50

Needs ``meltano install`` (the dbt-duckdb utility). Writes tests/incident_fixtures.py's
account into a DuckDB file and a consumer project with that many sources (all on the
destination table of the connection broken at every run, so every source is at risk: the
worst case), models in layers (each reads one or two nodes of earlier layers, the first
layer one source each) and exposures on random models. Builds the package's models, then
prints the wall time of ``dbt parse`` and of ``dbt run`` of the impact model alone, the size
of its compiled SQL, the number of levels it walks and the rows it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import incident_fixtures as fx  # noqa: E402

DBT = ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt"
MODELS = "fivetran_meta_models"


def consumer(root: Path, sources: int, models: int, exposures: int, layers: int) -> Path:
    rng = random.Random(7)  # noqa: S311 - a reproducible graph, not a secret
    project = root / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    declared = [
        {"name": f"src{n}", "schema": "shop_public", "tables": [{"name": "orders"}]}
        for n in range(sources)
    ]
    per_layer = max(1, models // layers)
    names: list[list[str]] = []
    for n in range(models):
        layer = min(layers - 1, n // per_layer)
        name = f"m{n}"
        if layer == 0:
            body = f"select * from {{{{ source('src{n % sources}', 'orders') }}}}"
        else:
            earlier = [m for ms in names[:layer] for m in ms]
            parents = rng.sample(earlier, min(2, len(earlier)))
            body = " union all ".join(f"select * from {{{{ ref('{p}') }}}}" for p in parents)
        (project / "models" / f"{name}.sql").write_text(body)
        while len(names) <= layer:
            names.append([])
        names[layer].append(name)
    every = [m for ms in names for m in ms]
    shown = [
        {
            "name": f"dash{n}",
            "type": "dashboard",
            "owner": {"name": "bench"},
            "depends_on": [f"ref('{rng.choice(every)}')"],
        }
        for n in range(exposures)
    ]
    schema = {"version": 2, "sources": declared, "exposures": shown}
    (project / "models" / "schema.yml").write_text(json.dumps(schema))
    return project


def run(project: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(DBT), *args, "--project-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"dbt {' '.join(args)} failed:\n{done.stdout[-3000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--exposures", type=int, default=50)
    parser.add_argument("--layers", type=int, default=12)
    args = parser.parse_args()
    if not DBT.exists():
        sys.exit(f"{DBT} is missing: run `meltano install` first")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warehouse = root / "warehouse.duckdb"
        fx.build(warehouse)
        project = consumer(root, args.sources, args.models, args.exposures, args.layers)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "FIVETRAN_"))}
        env |= {
            "DBT_TARGET": "duckdb",
            "DBT_PROFILES_DIR": str(ROOT / "transform" / "profiles"),
            "DBT_DUCKDB_PATH": str(warehouse),
            "DBT_DUCKDB_SCHEMA": MODELS,
            "FIVETRAN_META_SOURCE_SCHEMA": "fivetran_meta",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        run(project, env, "deps")
        parse_s = run(project, env, "parse")
        run(project, env, "run", "--select", "package:fivetran_meta")
        impact_s = run(project, env, "run", "--select", "fivetran_meta__dbt_impact")
        compiled = next((project / "target" / "run").rglob("fivetran_meta__dbt_impact.sql"))
        sql = compiled.read_text()
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
        rows = con.execute(f"select count(*) from {MODELS}.fivetran_meta__dbt_impact").fetchone()
        con.close()
    levels = len(re.findall(r"^reach_\d+ as", sql, re.MULTILINE))
    print(
        f"sources {args.sources}, models {args.models}, exposures {args.exposures}, "
        f"layers {args.layers}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"dbt parse                      {parse_s:7.1f} s")
    print(f"dbt run fivetran_meta__dbt_impact {impact_s:5.1f} s")
    print(f"compiled SQL                   {len(sql) / 1e6:7.2f} MB, {levels} levels")
    print(f"rows (source x downstream node) {rows[0] if rows else 0:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
