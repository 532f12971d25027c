#!/usr/bin/env python3
"""Write tap_fivetran_meta/rules/config_fields.py from Fivetran's OpenAPI definition.

Usage: scripts/gen_config_fields.py fivetran-open-api-definition.json

The definition (fivetran/fivetran-mcp, ``fivetran-open-api-definition.json``) declares
the config object of every connector, destination, log service and private link in a
schema named ``<service>_config_V<n>``. Every property name found there (at any depth)
is a documented config field; a name whose property carries ``"format": "password"``
anywhere is a secret everywhere. Only names are written: no value, no description.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tap_fivetran_meta" / "rules" / "config_fields.py"
CONFIG_SCHEMA = re.compile(r"_config_V\d+$")
MAX_DEPTH = 8


def walk(schema: Any, names: dict[str, bool], depth: int = 0) -> None:
    """Collect property names of ``schema``: name -> marked ``format: password``."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        names[name] = names.get(name, False) or prop.get("format") == "password"
        walk(prop, names, depth + 1)
        walk(prop.get("items"), names, depth + 1)
    for combinator in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combinator) or ():
            walk(part, names, depth + 1)


def render(names: dict[str, bool], source: str) -> str:
    secret = sorted(n for n, marked in names.items() if marked)
    plain = sorted(n for n, marked in names.items() if not marked)

    def block(values: list[str]) -> str:
        return "\n".join(f"        {json.dumps(v)}," for v in values)

    return f'''"""Config field names from Fivetran's OpenAPI definition (generated: do not edit).

Written by ``scripts/gen_config_fields.py`` from Fivetran's OpenAPI definition
({source}): every property name of the ``<service>_config_V<n>``
schemas ({len(names)} names). ``PASSWORD_FIELDS`` are the {len(secret)} names marked
``"format": "password"`` somewhere (secret everywhere); ``DOCUMENTED_FIELDS`` the
others. ``rules/redact.py`` decides what to keep from these.
"""

from __future__ import annotations

PASSWORD_FIELDS = frozenset(
    {{
{block(secret)}
    }}
)

DOCUMENTED_FIELDS = frozenset(
    {{
{block(plain)}
    }}
)
'''


def main(path: str) -> None:
    definition = json.loads(Path(path).read_text())
    names: dict[str, bool] = {}
    for schema_name, schema in definition["components"]["schemas"].items():
        if CONFIG_SCHEMA.search(schema_name):
            walk(schema, names)
    OUT.write_text(render(names, "fivetran/fivetran-mcp"))
    print(f"{OUT}: {len(names)} names, {sum(names.values())} password-format")


if __name__ == "__main__":
    main(sys.argv[1])
