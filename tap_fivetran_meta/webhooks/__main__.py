"""Allow ``python -m tap_fivetran_meta.webhooks``."""

from __future__ import annotations

from tap_fivetran_meta.webhooks.cli import main

raise SystemExit(main())
