"""Remove secrets from everything config-like the tap emits, and from the text it logs.

Fivetran masks secret config values as ``******``, but not always: a connector may
return a token under a name of its own, or a password inside a URL. So the rule for a
config-like object (:func:`scrub`) is an allow-list where it can be:

1. a masked value (``******``) is dropped;
2. a key that names a secret is dropped with its whole value, whatever its type. Key
   names are normalised first (``sshKey``, ``SSH-Key``, ``ssh.key`` all read
   ``ssh_key``); see :func:`is_secret_key` for what counts as a secret name;
3. any other *string* is kept only under a key known to be safe (:func:`is_safe_key`:
   ``host``, ``port``, ``database``, ``user``, names ending in ``_id``, ``_name``,
   ``_type``…); a string under an unknown key is dropped, since an unknown key may
   hold a secret nobody masked;
4. numbers, booleans and nulls stay (under keys that are not secret);
5. objects and arrays are walked (array items are judged under their array's key),
   down to :data:`MAX_DEPTH` levels; deeper parts are dropped, and so is an object or
   array under an unknown key that is empty once scrubbed;
6. every kept string is cleaned like free text (:func:`scrub_text`): the user and
   password of a URL (``scheme://user:pass@host``), secret-named ``name=value`` pairs of
   query and connection strings, ``Basic``/``Bearer`` credentials and JWTs are removed;
   a string carrying a PEM key block is dropped.

Secrets are dropped, not replaced, in config-like objects: a record never carries
even the shape of a secret. Free text (setup-test and task ``details``, messages)
keeps its words, with the secret parts replaced by ``<redacted>``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from tap_fivetran_meta.rules.config_fields import DOCUMENTED_FIELDS, PASSWORD_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable

MASK_RE = re.compile(r"^\*{3,}$")
REDACTED = "<redacted>"
#: Deepest nesting walked in a config-like object; anything deeper is dropped.
MAX_DEPTH = 32

# --- key names ------------------------------------------------------------------------

#: Words that make a key name a secret wherever they appear inside one of its tokens.
SECRET_SUBSTRINGS = (
    "password",
    "passwd",
    "pwd",
    "auth",
    "passphrase",
    "secret",
    "token",
    "credential",
    "apikey",
    "privatekey",
    "accesskey",
    "sshkey",
    "signingkey",
    "masterkey",
    "accountkey",
    "encryptionkey",
    "connectionstring",
    "keyfile",
    "serviceaccount",
)
#: Words that make a key name a secret even when its last token is a descriptor: the
#: value is a capability (``webhook_url``: whoever has the URL may post to it).
CAPABILITY_SUBSTRINGS = ("webhook",)
#: Tokens that make a key name a secret when they are a whole token of it.
SECRET_TOKENS = frozenset(
    {
        "pass",
        "pw",
        "pat",
        "key",
        "pem",
        "pfx",
        "jks",
        "cert",
        "certificate",
        "sas",
        "sig",
        "signature",
        "jwt",
        "cookie",
        "cookies",
        "otp",
        "pin",
        "salt",
        "dsn",
        "cred",
        "creds",
        "json",
        "session",
        "hmac",
        "nonce",
    }
)
#: Token sequences that make a key name a secret.
SECRET_PHRASES = (
    ("connection", "string"),
    ("conn", "str"),
    ("connection", "uri"),
    ("service", "account"),
)
#: A last token saying the key *describes* a secret (``auth_type``, ``secret_name``,
#: ``password_enabled``) without holding it.
DESCRIPTOR_TOKENS = frozenset(
    {
        "type",
        "types",
        "method",
        "mode",
        "enabled",
        "disabled",
        "required",
        "provided",
        "configured",
        "encrypted",
        "expires",
        "expiry",
        "expiration",
        "length",
        "algorithm",
        "format",
        "version",
        "name",
        "names",
        "url",
        "uri",
        "endpoint",
        "location",
        "provider",
        "source",
        "kind",
        "scope",
        "scopes",
        "path",
        "count",
        "at",
    }
)
#: Whole key names whose string values are safe to keep.
SAFE_NAMES = frozenset(
    {
        "host",
        "hostname",
        "port",
        "user",
        "username",
        "login",
        "email",
        "database",
        "db",
        "schema",
        "schemas",
        "table",
        "tables",
        "region",
        "bucket",
        "prefix",
        "warehouse",
        "role",
        "account",
        "project",
        "dataset",
        "catalog",
        "cluster",
        "server",
        "domain",
        "subdomain",
        "site",
        "instance",
        "environment",
        "timezone",
        "pattern",
        "delimiter",
        "compression",
        "encoding",
        "threads",
        "command",
        "title",
        "status",
        "message",
        "code",
        "description",
        "label",
        "branch",
        "folder",
        "directory",
        "language",
        "locale",
        "currency",
        "country",
        "http_path",
        "git_remote_url",
        "redirect_uri",
        "update_method",
        "replication_slot",
        "publication_name",
        "sync_mode",
        "excluded_models",
        "output_model_names",
        "virtual_warehouse",
        "time_zone",
        "schema_prefix",
        "table_prefix",
        "default_schema",
        "target_name",
        "dbt_version",
        "folder_path",
    }
)
#: Last tokens whose string values are safe to keep (``project_id``, ``auth_type``...).
SAFE_LAST_TOKENS = frozenset(
    DESCRIPTOR_TOKENS
    | {
        "id",
        "ids",
        "host",
        "hostname",
        "port",
        "region",
        "schema",
        "schemas",
        "table",
        "tables",
        "database",
        "dataset",
        "project",
        "catalog",
        "bucket",
        "prefix",
        "suffix",
        "folder",
        "directory",
        "dir",
        "pattern",
        "timezone",
        "zone",
        "frequency",
        "interval",
        "delimiter",
        "compression",
        "status",
        "state",
        "level",
        "label",
        "labels",
        "description",
        "email",
        "user",
        "username",
        "role",
        "warehouse",
        "cluster",
        "server",
        "domain",
        "branch",
        "target",
        "date",
        "time",
        "models",
        "model",
        "arn",
        "range",
        "function",
        "synced",
        "updated",
        "created",
    }
)

#: Documented config fields (config_fields.py) whose names contain a secret word but
#: hold a method, a mode or a region (``auth: PASSWORD``), never a credential. Their
#: names stay secret ones; a value is kept only when it reads as an enumerated word
#: (:data:`ENUM_WORD_RE`), so a token planted under such a name is still dropped.
FACT_WORDS = frozenset(
    {
        "auth",  # PASSWORD / KEY_PAIR: how to log in
        "auth_environment",
        "auth_url_region",
        "token_url_region",
        "jwt_environment",
        "signature_encoding",
        "webhook_auth_type",
    }
)
#: Documented boolean flags with secret-looking names: kept when they are booleans.
FACT_FLAGS = frozenset(
    {
        "is_custom_api_credentials",
        "is_sftp_creds_available",
        "sftp_is_key_pair",
        "use_service_account",
        "use_webhooks",
        "token_authenticated_container",
        "token_authenticated_database",
    }
)
#: An enumerated word: ``PASSWORD``, ``KEY_PAIR``, ``production`` (letters only).
ENUM_WORD_RE = re.compile(
    r"^(?:[A-Z]{2,24}(?:_[A-Z]{2,24}){0,3}|[a-z]{2,24}(?:_[a-z]{2,24}){0,3})$"
)
#: Documented fields whose values are free-form (``KEY=value`` environment variables,
#: request payloads): whatever they hold, not kept.
FREE_FORM_FIELDS = frozenset(
    {"environment_vars", "configurable_variables", "custom_payloads", "server_variable"}
)
#: Non-secret facts seen in recorded real bodies but absent from the definition.
RECORDED_FACTS = frozenset({"snowflake_cloud"})

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-zA-Z])(?=[0-9])")
_SEPARATOR_RE = re.compile(r"[^a-z0-9]+")


def normalise_key(name: str) -> str:
    """``sshKey``/``SSH-Key``/``ssh.key`` -> ``ssh_key``: snake case, no separators.

    A digit after a letter starts a token (``auth2`` -> ``auth_2``).
    """
    spaced = _CAMEL_RE.sub("_", name.strip())
    return _SEPARATOR_RE.sub("_", spaced.lower()).strip("_")


def _tokens(name: str) -> list[str]:
    return [token for token in normalise_key(name).split("_") if token]


_PASSWORD_NORMALISED = frozenset(normalise_key(name) for name in PASSWORD_FIELDS)
_WORDS_NORMALISED = frozenset(normalise_key(name) for name in FACT_WORDS)
_FLAGS_NORMALISED = frozenset(normalise_key(name) for name in FACT_FLAGS)


def is_secret_key(name: str) -> bool:
    """Whether a key names a secret (``password``, ``clientSecret``, ``ssh_key``...).

    A key is a secret when one of its tokens contains a word of
    :data:`SECRET_SUBSTRINGS`, is one of :data:`SECRET_TOKENS`, or its tokens contain a
    phrase of :data:`SECRET_PHRASES` — unless its last token only describes the secret
    (:data:`DESCRIPTOR_TOKENS`: ``auth_type``, ``token_url``, ``secret_name``). A name
    with a word of :data:`CAPABILITY_SUBSTRINGS`, or one Fivetran's definition marks
    ``format: password`` anywhere (``config_fields.PASSWORD_FIELDS``), is a secret
    whatever its last token.
    """
    tokens = _tokens(str(name))
    if not tokens:
        return False
    joined = "".join(tokens)
    marked = "_".join(tokens) in _PASSWORD_NORMALISED  # format: password somewhere
    if marked or any(word in joined for word in CAPABILITY_SUBSTRINGS):
        return True
    if len(tokens) > 1 and tokens[-1] in DESCRIPTOR_TOKENS:
        return False
    if any(word in joined for word in SECRET_SUBSTRINGS):
        return True
    if any(token in SECRET_TOKENS for token in tokens):
        return True
    return any(_has_phrase(tokens, phrase) for phrase in SECRET_PHRASES)


def _has_phrase(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    width = len(phrase)
    return any(tuple(tokens[i : i + width]) == phrase for i in range(len(tokens) - width + 1))


def is_safe_key(name: str) -> bool:
    """Whether a string under this (non-secret) key may be kept (see the module rule 3)."""
    normalised = normalise_key(str(name))
    if normalised in SAFE_NAMES or normalised in _DOCUMENTED_SAFE:
        return True
    tokens = normalised.split("_")
    return tokens[-1] in SAFE_LAST_TOKENS or (tokens[0] == "is" and len(tokens) > 1)


#: Documented config fields (and recorded facts) whose string values are kept.
_DOCUMENTED_SAFE = frozenset(
    normalise_key(name)
    for name in (DOCUMENTED_FIELDS | RECORDED_FACTS) - FREE_FORM_FIELDS
    if not is_secret_key(name)
)


def is_fact_under_secret_name(name: str, value: Any) -> bool:
    """Whether a value under a secret-looking name is a documented fact (``auth: PASSWORD``)."""
    normalised = normalise_key(name)
    if normalised in _FLAGS_NORMALISED:
        return isinstance(value, bool)
    return (
        normalised in _WORDS_NORMALISED
        and isinstance(value, str)
        and bool(ENUM_WORD_RE.match(value))
    )


def is_masked(value: object) -> bool:
    """Whether a value is Fivetran's mask (``******``)."""
    return isinstance(value, str) and bool(MASK_RE.match(value.strip()))


# --- values ------------------------------------------------------------------------------

#: ``Basic <b64>`` / ``Bearer <token>`` credentials, wherever they appear in a text.
AUTH_TOKEN_RE = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE)
PEM_RE = re.compile(
    r"-----BEGIN [A-Z0-9 ]*-----.*?(?:-----END [A-Z0-9 ]*-----|$)", re.DOTALL | re.IGNORECASE
)
JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
#: ``scheme://userinfo@`` of a URL (user and password: a token is often the user part).
URL_USERINFO_RE = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@]*@")
#: ``user:password@host`` without a scheme.
BARE_USERINFO_RE = re.compile(r"(?<![\w/@:.%+-])[\w.%+-]+:[^\s/@:]+@(?=[\w-]+\.)")
#: ``name=value`` pairs of query strings, connection strings, command lines.
PAIR_RE = re.compile(
    r"""(?P<name>[A-Za-z_][\w.-]*)(?P<sep>\s*=\s*)(?P<value>"[^"]*"|'[^']*'|[^;&\s"',]*)"""
)
#: ``"name": "value"`` pairs of JSON inside a text.
JSON_PAIR_RE = re.compile(r'"(?P<name>[^"\\]{1,100})"\s*:\s*"(?:[^"\\]|\\.)*"')
#: ``'name': 'value'`` / ``'name': value`` pairs of a Python dict's repr.
REPR_PAIR_RE = re.compile(
    r"""'(?P<name>[^'\\]{1,100})'(?P<sep>\s*:\s*)(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,}\s]+)"""
)
#: ``name:value`` pairs without a space (``name: value`` is handled word by word).
COLON_PAIR_RE = re.compile(
    r"""(?<![\w/'"])(?P<name>[A-Za-z_][\w.-]{0,99})(?P<sep>:)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s;,&"'}/][^\s;,&"'}]*)"""
)
#: ``--name value`` / ``--name=value`` command-line options.
OPTION_RE = re.compile(r"(?P<name>--?[A-Za-z][\w-]{0,99})(?P<sep>[ \t]+|=)(?P<value>[^\s\-][^\s]*)")
_WORD_GAP_RE = re.compile(r"([ \t]+)")
#: A value that reads like a credential: a digit, a symbol, mixed case or 12+ characters.
_CREDENTIAL_LIKE_RE = re.compile(r"[0-9_\-+/=.:~!@#$%^&*]|[a-z].*[A-Z]|[A-Z].*[a-z]|^\S{12,}$")
#: Names whose next word is taken as their value unless it is an ordinary word of prose.
STRONG_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "passphrase"})
#: Words that follow a secret's name in error prose (``token expired``, ``password is``).
PROSE_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "not",
        "no",
        "and",
        "or",
        "but",
        "for",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "as",
        "if",
        "it",
        "this",
        "that",
        "must",
        "should",
        "may",
        "can",
        "could",
        "will",
        "would",
        "does",
        "did",
        "do",
        "expired",
        "invalid",
        "incorrect",
        "wrong",
        "missing",
        "required",
        "empty",
        "rejected",
        "revoked",
        "denied",
        "failed",
        "failure",
        "error",
        "errors",
        "mismatch",
        "changed",
        "reset",
        "rotation",
        "rotated",
        "authentication",
        "authorization",
        "auth",
        "method",
        "type",
        "based",
        "provided",
        "needed",
        "set",
        "unset",
        "configured",
        "used",
        "using",
        "field",
        "value",
        "length",
        "format",
        "too",
        "short",
        "long",
        "only",
        "please",
        "check",
        "update",
        "updated",
    ]
)


def scrub_auth_tokens(text: str) -> str:
    """Replace HTTP ``Basic``/``Bearer`` credentials in a message with ``<redacted>``.

    For any text the tap logs or raises that may echo a request header back (an API
    error message, an exception from the HTTP stack).
    """
    return AUTH_TOKEN_RE.sub(lambda match: f"{match.group(1)} {REDACTED}", text)


def scrub_text(text: str) -> str:
    """Free text with its secret parts replaced by ``<redacted>``.

    Removes PEM blocks, ``Basic``/``Bearer`` credentials, JWTs, the user and password of
    URLs, and the values of secret-named pairs: ``name=value``, ``name: value``,
    ``"name": "value"``, ``{'name': 'value'}``, ``--name value``, and ``name value`` when
    the value reads like a credential (``token ghp_x1``, not ``token expired``).
    """
    text = PEM_RE.sub(REDACTED, text)
    text = scrub_auth_tokens(text)
    text = JWT_RE.sub(REDACTED, text)
    text = URL_USERINFO_RE.sub(lambda match: f"{match.group(1)}{REDACTED}@", text)
    text = BARE_USERINFO_RE.sub(f"{REDACTED}@", text)
    text = PAIR_RE.sub(_redact_pair, text)
    text = JSON_PAIR_RE.sub(_redact_json_pair, text)
    text = REPR_PAIR_RE.sub(_redact_repr_pair, text)
    text = OPTION_RE.sub(_redact_option, text)
    text = COLON_PAIR_RE.sub(_redact_colon_pair, text)
    return _redact_following_words(text)


def _redact_colon_pair(match: re.Match[str]) -> str:
    if match.group("value").lower() in {"basic", "bearer", REDACTED}:
        return match.group(0)  # ``Authorization: Basic <redacted>`` is already clean
    return _redact_pair(match)


def _redact_repr_pair(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("name")):
        return match.group(0)
    return f"'{match.group('name')}'{match.group('sep')}'{REDACTED}'"


def _redact_option(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("name").lstrip("-")):
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"


def _redact_following_words(text: str) -> str:
    """``name: value`` and ``name value`` (the value reading like a credential), by words.

    Word by word, so that ``auth failed for token X`` or ``failed: password: X`` find
    the secret name however many words precede it.
    """
    parts = _WORD_GAP_RE.split(text)
    for i in range(0, len(parts) - 2, 2):
        word, value = parts[i], parts[i + 2]
        name = word.lstrip("([{\"'").rstrip(":")
        if not name or value.lower() in {"basic", "bearer", REDACTED} or not is_secret_key(name):
            continue
        bare = value.strip(".,;:!?()[]{}\"'").lower()
        if bare in PROSE_WORDS:
            continue
        strong = normalise_key(name) in STRONG_SECRET_WORDS
        if word.endswith(":") or strong or _CREDENTIAL_LIKE_RE.search(value):
            parts[i + 2] = REDACTED
    return "".join(parts)


def _redact_pair(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("name")) or not match.group("value"):
        return match.group(0)
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"


def _redact_json_pair(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("name")):
        return match.group(0)
    return f'"{match.group("name")}": "{REDACTED}"'


def _clean_config_string(value: str) -> str | None:
    """A kept config string, cleaned; None when it carries key material."""
    if PEM_RE.search(value):
        return None
    return scrub_text(value)


# --- config-like objects -----------------------------------------------------------------

_DROP = object()


def scrub(value: Any) -> Any:
    """A copy of a config-like object without secrets (rules in the module docstring).

    Args:
        value: Any JSON value; objects and arrays are walked.

    Returns:
        The scrubbed copy (``{}`` or ``[]`` when everything was dropped).
    """
    if isinstance(value, dict):
        return _scrub_object(value, 0)
    if isinstance(value, list):
        return _scrub_array(value, None, 0)
    kept = _scrub_value(None, value, 0)
    return None if kept is _DROP else kept


def _scrub_object(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key)
        if is_secret_key(name):
            if is_fact_under_secret_name(name, item):
                kept[name] = item
            continue
        cleaned = _scrub_value(name, item, depth + 1)
        if cleaned is _DROP or (_is_empty_container(cleaned) and not is_safe_key(name)):
            continue  # an emptied (or empty) container under an unknown key says nothing
        kept[name] = cleaned
    return kept


def _is_empty_container(value: Any) -> bool:
    return isinstance(value, (dict, list)) and not value


def _scrub_array(value: list[Any], key: str | None, depth: int) -> list[Any]:
    kept = []
    for item in value:
        cleaned = _scrub_value(key, item, depth + 1)
        if cleaned is not _DROP:
            kept.append(cleaned)
    return kept


def _scrub_value(key: str | None, value: Any, depth: int) -> Any:
    """One value under ``key`` (None: top level), or :data:`_DROP`."""
    if depth > MAX_DEPTH:
        return _DROP
    if isinstance(value, dict):
        return _scrub_object(value, depth)
    if isinstance(value, list):
        return _scrub_array(value, key, depth)
    if isinstance(value, str):
        if is_masked(value) or key is None or not is_safe_key(key):
            return _DROP
        cleaned = _clean_config_string(value)
        return _DROP if cleaned is None else cleaned
    return value


def scrub_details(value: Any) -> Any:
    """A ``details`` value (of a setup test, task or warning): object or free text."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, (dict, list)):
        return scrub(value)
    return value


def scrub_messages(items: Any) -> Any:
    """A copy of a list of ``{code|title, status, message, details}`` objects, scrubbed.

    ``message`` and string ``details`` keep their words (:func:`scrub_text`); object
    ``details`` are config-like (:func:`scrub`). Anything but a list passes unchanged.
    """
    if not isinstance(items, list):
        return items
    cleaned = []
    for item in items:
        if not isinstance(item, dict):
            cleaned.append(item)
            continue
        copy = dict(item)
        if isinstance(copy.get("message"), str):
            copy["message"] = scrub_text(copy["message"])
        if "details" in copy:
            copy["details"] = scrub_details(copy["details"])
        cleaned.append(copy)
    return cleaned


def scrub_record(
    row: dict[str, Any],
    *,
    config_fields: tuple[str, ...] = (),
    message_lists: tuple[str, ...] = (),
    text_lists: tuple[str, ...] = (),
) -> None:
    """Scrub the config-like parts of one record in place.

    Args:
        row: The record.
        config_fields: Top-level fields holding config-like objects (:func:`scrub`);
            anything but an object there becomes null.
        message_lists: Fields (dotted paths reach into objects, e.g. ``status.tasks``)
            holding lists of code/message/details objects (:func:`scrub_messages`).
        text_lists: Fields holding lists of free-text strings (:func:`scrub_text`).
    """
    for name in config_fields:
        if name in row:
            value = row[name]
            row[name] = scrub(value) if isinstance(value, dict) else None
    for path in message_lists:
        parent, leaf = _parent_of(row, path)
        if parent is not None and leaf in parent:
            parent[leaf] = scrub_messages(parent[leaf])
    for name in text_lists:
        if isinstance(row.get(name), list):
            row[name] = [scrub_text(t) if isinstance(t, str) else t for t in row[name]]


def _parent_of(row: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    *heads, leaf = path.split(".")
    node: Any = row
    for head in heads:
        node = node.get(head) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), leaf


# --- literal secret values -------------------------------------------------------------------

#: Shorter values are not masked in free text (a 1-character "secret" would blank every
#: occurrence of that letter); the settings checks ask for longer ones.
MIN_MASKED_LENGTH = 4


def secret_variants(
    secrets: Iterable[str], basic_pairs: Iterable[tuple[str, str]] = ()
) -> set[str]:
    """Every spelling under which a secret value can be echoed back in a text.

    The value itself, URL-encoded (``quote`` and ``quote_plus``, either hex case),
    JSON-escaped, base64 (standard and URL-safe, with and without padding), and the
    base64 of each ``key:secret`` pair of ``basic_pairs`` (an echoed Authorization
    header without its ``Basic``).
    """
    plain = {s for s in secrets if len(s) >= MIN_MASKED_LENGTH}
    encoded = {f"{key}:{secret}" for key, secret in basic_pairs if secret}
    variants: set[str] = set()
    for value in plain:
        quoted = {quote(value, safe=""), quote(value), quote_plus(value)}
        variants |= {value, json.dumps(value)[1:-1], *quoted}
        variants |= {_lower_hex(q) for q in quoted}
    for value in plain | encoded:
        raw = value.encode()
        for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            text = b64.decode()
            variants |= {text, text.rstrip("=")}
    return {v for v in variants if len(v) >= MIN_MASKED_LENGTH}


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), text)


class SecretMask:
    """Replaces the literal values of known secrets, in any spelling, by ``<redacted>``."""

    def __init__(self, variants: Iterable[str] = ()) -> None:
        ordered = sorted(set(variants), key=len, reverse=True)  # longest spelling first
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @classmethod
    def of(cls, secrets: Iterable[str], basic_pairs: Iterable[tuple[str, str]] = ()) -> SecretMask:
        """The mask of ``secrets`` and of the Basic credentials of ``basic_pairs``."""
        return cls(secret_variants(secrets, basic_pairs))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        """``text`` with every known secret spelling replaced by ``<redacted>``."""
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)


# --- single fields -------------------------------------------------------------------------

_QUERY_VALUE_RE = re.compile(r"(?P<name>[?&;][^=&#;\s]*=)(?P<value>[^&#;\s]*)")


def scrub_url(value: Any) -> Any:
    """A URL without its user info and with every query parameter value redacted.

    Delivery URLs carry their credentials in the query (``?token=``, ``?sig=``) or the
    user info (``https://user:pass@host``) under any name, so no value is kept there;
    the path is kept (free-text rules still apply). Anything but a string passes.
    """
    if not isinstance(value, str):
        return value
    text = scrub_text(value)
    return _QUERY_VALUE_RE.sub(
        lambda match: match.group("name") + (REDACTED if match.group("value") else ""), text
    )


def keep_fields(value: Any, names: frozenset[str]) -> Any:
    """An object holding only the documented ``names``, each value scrubbed; else None.

    For objects whose every field is documented (a transformation's ``schedule``): an
    unknown key is dropped, a string is cleaned like free text, lists keep their
    numbers, booleans and cleaned strings.
    """
    if not isinstance(value, dict):
        return None
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if key not in names or is_secret_key(str(key)):
            continue
        if isinstance(item, str):
            kept[key] = scrub_text(item)
        elif isinstance(item, list):
            kept[key] = [scrub_text(i) if isinstance(i, str) else i for i in item if _is_scalar(i)]
        elif _is_scalar(item):
            kept[key] = item
    return kept


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def scrub_text_fields(row: dict[str, Any], names: Iterable[str]) -> None:
    """Clean the free-text string fields ``names`` of ``row`` in place (:func:`scrub_text`)."""
    for name in names:
        if isinstance(row.get(name), str):
            row[name] = scrub_text(row[name])
