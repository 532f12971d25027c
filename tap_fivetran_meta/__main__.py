"""Allow ``python -m tap_fivetran_meta``."""

from __future__ import annotations

from tap_fivetran_meta.tap import TapFivetranMeta

TapFivetranMeta.cli()
