"""Config rules that JSON Schema cannot express; each error names its setting."""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from tap_fivetran_meta.rules.redact import scrub_url
from tap_fivetran_meta.rules.timeutil import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
#: Spellings singer-sdk reads as true from an environment variable; FALSE_WORDS as false.
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off", "")
CREDENTIALS = {"api_key": "Fivetran API key", "api_secret": "secret of the Fivetran API key"}
#: No Fivetran sync can be older than Fivetran (founded 2012): an earlier start_date
#: only buys requests (one per connection per week of it) that cannot return anything.
EARLIEST_START_DATE = datetime(2012, 1, 1, tzinfo=timezone.utc)


def is_loopback_host(host: str | None) -> bool:
    """Whether a host name or address is this machine (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_url_error(api_url: object) -> str | None:
    """Why ``api_url`` is unacceptable, or None when it is fine."""
    if api_url is None:
        return None
    if not isinstance(api_url, str) or not api_url.strip():
        return "api_url must be a non-empty URL such as https://api.fivetran.com/v1"
    parsed = urlparse(api_url)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and is_loopback_host(parsed.hostname):
        return None
    if parsed.scheme == "http":
        return (
            f"api_url must use https (got http://{parsed.hostname}); plain http is only "
            "accepted for loopback hosts such as the bundled simulator"
        )
    return f"api_url must be an https URL such as https://api.fivetran.com/v1 (got {api_url!r})"


def api_url_hint(api_url: str) -> str:
    """A sentence for a 404 on a core endpoint: the base URL may end in the wrong path."""
    return (
        f". If every request fails like this, check api_url (now {scrub_url(api_url)}): "
        "Fivetran's "
        "REST API is at https://api.fivetran.com/v1"
    )


def start_date_error(start_date: object, now: datetime) -> str | None:
    """Why ``start_date`` is unacceptable (unparseable or in the future), or None."""
    if start_date in (None, ""):
        return None
    parsed = parse_timestamp(start_date)
    if parsed is None:
        return (
            "start_date must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z "
            f"(got {start_date!r})"
        )
    if parsed > now:
        return f"start_date {start_date} is in the future; use a past date (or leave it unset)"
    return None


def credential_errors(config: Mapping[str, Any]) -> list[str]:
    """Blank ``api_key``/``api_secret`` values (missing ones are the schema's to report)."""
    return [
        f"{name} is empty; set it to the {what}"
        for name, what in CREDENTIALS.items()
        if isinstance(config.get(name), str) and not config[name].strip()
    ]


def webhook_inbox_error(path: object) -> str | None:
    """Why ``webhook_inbox_path`` is unusable before the run starts, or None.

    A path that does not exist yet is fine (the receiver creates the file; the stream
    then says it found no inbox); a directory never becomes an inbox file.
    """
    if not isinstance(path, str) or not path:
        return None
    if Path(path).expanduser().is_dir():
        return (
            f"webhook_inbox_path {path} is a directory; give the inbox file that "
            "`tap-fivetran-meta-webhooks serve --inbox` writes, e.g. "
            f"{Path(path) / 'inbox.sqlite'}"
        )
    return None


def start_date_too_old_error(start_date: object) -> str | None:
    """Why ``start_date`` lies before any history the API can hold, or None."""
    parsed = parse_timestamp(start_date) if start_date not in (None, "") else None
    if parsed is None or parsed >= EARLIEST_START_DATE:
        return None
    return (
        f"start_date {start_date} is before {EARLIEST_START_DATE:%Y-%m-%d}: Fivetran holds "
        "no sync history older than that, and each week of it would cost one request per "
        f"connection. Use {EARLIEST_START_DATE:%Y-%m-%d} or later (or leave it unset)"
    )


def semantic_config_errors(config: Mapping[str, Any], *, now: datetime) -> list[str]:
    """All rule violations in ``config`` (empty when valid)."""
    errors = [
        *credential_errors(config),
        api_url_error(config.get("api_url")),
        start_date_error(config.get("start_date"), now),
        webhook_inbox_error(config.get("webhook_inbox_path")),
        start_date_too_old_error(config.get("start_date")),
        user_agent_error(config.get("user_agent")),
    ]
    return [error for error in errors if error]


def user_agent_error(user_agent: object) -> str | None:
    """Why ``user_agent`` cannot be sent as an HTTP header (Latin-1, one line), or None."""
    if not isinstance(user_agent, str):
        return None
    try:
        user_agent.encode("latin-1")
    except UnicodeEncodeError:
        return "user_agent must be plain text an HTTP header can carry (Latin-1, e.g. ASCII)"
    if any(ch in user_agent for ch in "\r\n\x00"):
        return "user_agent must be one line (no line breaks)"
    return None


def _schema_types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def env_value_error(variable: str, value: str, schema: Mapping[str, Any]) -> str | None:
    """Why one ``TAP_FIVETRAN_META_*`` value cannot be read as its setting's type."""
    types = _schema_types(schema)
    shown = "its value is not shown" if schema.get("secret") else f"got {value!r}"
    if "integer" in types:
        try:
            int(value)
        except ValueError:
            return f"{variable} must be a whole number ({shown})"
    elif "boolean" in types and value.strip().lower() not in TRUE_WORDS + FALSE_WORDS:
        return f"{variable} must be true or false ({shown})"
    elif "array" in types and value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            return (
                f"{variable} starts like a JSON array but is not one ({shown}); write "
                '["a","b"] or a,b'
            )
    return None


def env_config_errors(
    schema: Mapping[str, Any], prefix: str, environ: Mapping[str, str]
) -> list[str]:
    """Environment variables whose values do not fit their settings' types.

    singer-sdk would raise a bare ``ValueError`` for ``PAGE_SIZE=abc`` and read
    ``COLUMN_DETAILS=maybe`` as false; each of these becomes one line naming the variable.
    """
    errors = []
    for name, prop in schema.get("properties", {}).items():
        variable = prefix + re.sub(r"[^A-Z0-9_]", "_", name.upper())
        if variable in environ:
            error = env_value_error(variable, environ[variable], prop)
            if error:
                errors.append(error)
    return errors


_CONFIG_PATH_RE = re.compile(r" in config\['([^']+)'\]")


def without_secret_values(error: str, secret_settings: set[str]) -> str:
    """A schema error about a secret setting, rewritten so it cannot quote the value.

    jsonschema puts the offending value first (``12345 is not of type 'string' in
    config['api_secret']``); for a secret that would print (part of) the secret.
    """
    match = _CONFIG_PATH_RE.search(error)
    if match and match.group(1) in secret_settings:
        name = match.group(1)
        return f"{name} must be a non-empty string (the value is not shown: {name} is secret)"
    return error


#: Closest-match cutoff for "did you mean": catches a dropped or swapped letter or an
#: `_ids`/`_id` slip, not unrelated words.
SUGGESTION_CUTOFF = 0.75


def closest_setting(name: str, known: Iterable[str]) -> str | None:
    """The known setting ``name`` was most likely meant to be, if any is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=SUGGESTION_CUTOFF)
    return matches[0] if matches else None


def unknown_settings_warning(
    names: Iterable[str], known: Collection[str], *, what: str
) -> str | None:
    """One line naming settings the tap does not have, each with its likely meaning.

    Args:
        names: The setting names given (config keys, or variable names).
        known: The names the tap reads.
        what: How to call them in the line ("settings", "environment variables").

    Returns:
        The line, or None when every name is known.
    """
    unknown = sorted(name for name in names if name not in known)
    if not unknown:
        return None
    parts = []
    for name in unknown:
        guess = closest_setting(name, known)
        parts.append(f"'{name}' (did you mean '{guess}'?)" if guess else f"'{name}'")
    return (
        f"Ignoring unknown {what}: {', '.join(parts)}. They change nothing in this run; "
        "`tap-fivetran-meta --about` lists every setting."
    )


def env_setting_names(prefix: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``TAP_FIVETRAN_META_*`` variables meant as settings, by variable: the setting name.

    Left out: singer-sdk's own ``<PREFIX>LOGLEVEL`` and names starting with an underscore
    after the prefix (Meltano's extras such as ``TAP_FIVETRAN_META__SELECT``, and the
    variables of an inherited plugin such as ``TAP_FIVETRAN_META__EU_API_KEY``).
    """
    names = {}
    for variable in environ:
        if not variable.startswith(prefix):
            continue
        rest = variable[len(prefix) :]
        if rest and not rest.startswith("_") and rest not in SDK_ENV_NAMES:
            names[variable] = rest.lower()
    return names


#: Variables with the tap's prefix that singer-sdk reads itself (not settings).
SDK_ENV_NAMES = frozenset({"LOGLEVEL"})
