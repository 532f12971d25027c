"""Start-up: modules singer-sdk loads but the tap never uses wait until they are used."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tap_fivetran_meta.runtime.lazy_imports import DEFERRED


def _python(code: str) -> str:
    """What ``code`` prints on stderr, run in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr.strip()


def test_about_and_a_tap_instance_do_not_load_the_deferred_modules() -> None:
    loaded = _python(
        f"""
        import contextlib, io, sys
        from tap_fivetran_meta.runtime.lazy_imports import DeferredModule
        from tap_fivetran_meta.tap import TapFivetranMeta
        sys.argv = ["tap-fivetran-meta", "--about", "--format", "json"]
        with contextlib.suppress(SystemExit):
            TapFivetranMeta.cli()
        TapFivetranMeta(config={{}}, parse_env_config=False, validate_config=False)
        names = {DEFERRED!r} + ("fsspec",)
        print(sorted(n for n in names
                     if n in sys.modules and not isinstance(sys.modules[n], DeferredModule)),
              file=sys.stderr)
        """
    )
    assert loaded.splitlines()[-1] == "[]"  # after the tap's own log lines


def test_a_deferred_name_still_works_when_used() -> None:
    out = _python(
        """
        import tap_fivetran_meta.tap  # installs the stand-ins, imports singer-sdk
        from joblib import Parallel, delayed
        import sys
        print(Parallel(n_jobs=1)(delayed(abs)(x) for x in (-1, -2)), file=sys.stderr)
        from msgspec import inspect
        print(type(inspect.type_info(int)).__name__, file=sys.stderr)
        import msgspec
        print(msgspec.inspect.IntType is type(inspect.type_info(int)), file=sys.stderr)
        from upath import UPath
        print(UPath("/tmp").name, file=sys.stderr)
        """
    )
    assert out.splitlines() == ["[1, 2]", "IntType", "True", "tmp"]
