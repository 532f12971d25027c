"""Run the tap CLI with its clock frozen at ``$FROZEN_NOW`` (for subprocess tests).

The simulator's clock does not follow the wall clock; the tap's run start must
match it, exactly as the in-process tests patch ``tap_fivetran_meta.tap.utcnow``.
"""

from __future__ import annotations

import os
from datetime import datetime

import tap_fivetran_meta.tap as tap_module

FROZEN = datetime.fromisoformat(os.environ["FROZEN_NOW"])


def frozen_now() -> datetime:
    return FROZEN


if __name__ == "__main__":
    tap_module.utcnow = frozen_now
    tap_module.TapFivetranMeta.cli()
