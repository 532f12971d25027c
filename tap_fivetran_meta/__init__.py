"""Singer tap for Fivetran account metadata."""

from __future__ import annotations

from tap_fivetran_meta.runtime.lazy_imports import defer_unused_modules

__version__ = "0.1.0"

# Before anything imports singer-sdk: modules it loads but the tap never uses wait
# until they are used (see runtime/lazy_imports.py).
defer_unused_modules()
