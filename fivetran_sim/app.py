"""Request pipeline: counting, faults, auth, content negotiation, rate limit, routing.

Kept free of socket code so it can be driven directly; :mod:`fivetran_sim.server` does
the HTTP plumbing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from fivetran_sim import faults as fk
from fivetran_sim.api import ROUTES
from fivetran_sim.api_infra import INFRA_ROUTES
from fivetran_sim.config import SimConfig
from fivetran_sim.counters import RequestCounter
from fivetran_sim.errors import ApiError, default_code
from fivetran_sim.faults import FaultRule, FaultSet
from fivetran_sim.pagination import RESTART, decode_cursor, encode_cursor
from fivetran_sim.ratelimit import RateLimiter
from fivetran_sim.routes import Route, Router
from fivetran_sim.state import State

LOG = logging.getLogger("fivetran_sim")
JSON_TYPE = "application/json;charset=UTF-8"
ACCEPTED_MEDIA = frozenset({"*/*", "application/json", "application/json;version=2"})
DEFAULT_DELAY_S = {fk.LATENCY: 1.0, fk.TIMEOUT: 30.0}
_IMMEDIATE = frozenset(
    {
        fk.HTTP_ERROR,
        fk.DROP,
        fk.MALFORMED_JSON,
        fk.ENVELOPE_ERROR,
        fk.PLAN_GATED,
        fk.ABSENT,
        fk.ANSWER,
    }
)
BOMB_CHUNK = 1 << 20


class HeaderLookup(Protocol):
    """Case-insensitive header access (``email.message.Message`` or a dict)."""

    def get(self, name: str, /) -> str | None:
        """Header value or ``None``."""


AdminHandler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Any]]


@dataclass
class Outcome:
    """What the HTTP layer must send.

    Attributes:
        status: HTTP status.
        headers: Header name/value pairs (Content-Length is added by the server).
        body: Body bytes.
        drop: Close the connection without answering.
        truncate: Send the headers for the full body, then only half of it, then close.
        drip_s: Send the body one byte at a time, this many seconds apart.
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    drop: bool = False
    truncate: bool = False
    drip_s: float | None = None


def dump(payload: Any) -> bytes:
    """Serialise JSON compactly.

    Args:
        payload: JSON-compatible value.

    Returns:
        UTF-8 bytes.
    """
    return json.dumps(payload, separators=(",", ":")).encode()


def acceptable(header: str | None) -> bool:
    """Whether an ``Accept`` header allows a JSON answer.

    Args:
        header: Raw header value (``None`` when absent).

    Returns:
        True when the request can be served.
    """
    if header is None or not header.strip():
        return True
    for part in header.split(","):
        params = [p.strip().lower() for p in part.split(";") if p.strip()]
        media = ";".join(p.replace(" ", "") for p in params if not p.startswith("q="))
        if media in ACCEPTED_MEDIA:
            return True
    return False


def parse_query(raw: str) -> dict[str, str]:
    """First value of each query parameter.

    Args:
        raw: Query string.

    Returns:
        Parameter -> value.
    """
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


class ApiApp:
    """Turns a request into an :class:`Outcome`."""

    def __init__(
        self,
        *,
        config: SimConfig,
        state: State,
        faults: FaultSet,
        counter: RequestCounter,
        limiter: RateLimiter,
        sleep: Callable[[float], object],
        admin: AdminHandler,
    ) -> None:
        """Wire the pipeline.

        Args:
            config: Simulator configuration (credentials, latency).
            state: Account state.
            faults: Active fault rules.
            counter: Request counters.
            limiter: Rate limiter.
            sleep: Interruptible sleep used for latency and timeouts.
            admin: Handler for ``/__admin`` requests.
        """
        self._config = config
        self._state = state
        self._faults = faults
        self._counter = counter
        self._limiter = limiter
        self._sleep = sleep
        self._admin = admin
        self._router = Router([*ROUTES, *INFRA_ROUTES])
        token = f"{config.api_key}:{config.api_secret}".encode()
        self._expected_auth = b"Basic " + base64.b64encode(token)

    def handle(self, method: str, target: str, headers: HeaderLookup, body: bytes) -> Outcome:
        """Answer one request.

        Args:
            method: HTTP method.
            target: Request target (path and query).
            headers: Request headers (case-insensitive mapping).
            body: Request body.

        Returns:
            The outcome to send.
        """
        split = urlsplit(target)
        path = split.path
        query = parse_query(split.query)
        if path == "/__admin" or path.startswith("/__admin/"):
            status, payload = self._admin(method, path, query, body)
            return Outcome(status, [("Content-Type", JSON_TYPE)], dump(payload))
        segments = [unquote(s) for s in path.strip("/").split("/")]
        matched = self._router.match(segments)
        route = matched[0] if matched else None
        self._counter.add(f"{method} {route.template}" if route else f"{method} {path}")
        rule = self._faults.take(path, bool(route and route.is_list), bool(query.get("cursor")))
        self._delay(rule)
        if rule is not None and rule.kind in _IMMEDIATE:
            return self._fault_outcome(rule)
        outcome = self._answer(method, headers, matched, query, rule)
        outcome.truncate = rule is not None and rule.kind == fk.TRUNCATED_JSON
        if rule is not None and rule.kind == fk.GZIP_BOMB:
            _inflate_to(outcome, rule.size or 64 * BOMB_CHUNK)
        if rule is not None and rule.kind == fk.DRIP:
            outcome.drip_s = rule.delay_s if rule.delay_s is not None else 1.0
        return outcome

    def pause(self, seconds: float) -> None:
        """Sleep (interruptibly: the simulator's stop ends it), e.g. between dripped bytes."""
        self._sleep(seconds)

    def _delay(self, rule: FaultRule | None) -> None:
        if rule is not None and rule.kind in DEFAULT_DELAY_S:
            delay = rule.delay_s if rule.delay_s is not None else DEFAULT_DELAY_S[rule.kind]
            self._sleep(delay)
        if self._config.latency_ms:
            self._sleep(self._config.latency_ms / 1000)

    def _common_headers(self, remaining: int | None = None) -> list[tuple[str, str]]:
        left = self._limiter.remaining() if remaining is None else remaining
        return [
            ("Content-Type", JSON_TYPE),
            ("X-Rate-Limit", str(self._limiter.limit)),
            ("X-Rate-Limit-Remaining", str(left)),
            ("X-Request-Id", str(uuid.uuid4())),
        ]

    def _answer(
        self,
        method: str,
        headers: HeaderLookup,
        matched: tuple[Route, dict[str, str]] | None,
        query: dict[str, str],
        rule: FaultRule | None,
    ) -> Outcome:
        extra: list[tuple[str, str]] = []
        remaining: int | None = None
        try:
            remaining = self._gate(headers, extra)
            status, body = 200, self._dispatch(method, matched, query, rule)
        except ApiError as error:
            status, body = error.status, dump(error.body())
        except Exception:
            LOG.exception("simulator handler failed")
            status = 500
            body = dump({"code": "InternalServerError", "message": "Internal error"})
        return Outcome(status, self._common_headers(remaining) + extra, body)

    def _gate(self, headers: HeaderLookup, extra: list[tuple[str, str]]) -> int:
        """Auth, content negotiation and quota; returns the remaining quota."""
        self._check_auth(headers.get("Authorization"))
        if not acceptable(headers.get("Accept")):
            raise ApiError(406, "NotAcceptable", "Unsupported 'Accept' header value")
        allowed, remaining, retry_after = self._limiter.acquire()
        if not allowed:
            extra.append(("Retry-After", str(retry_after)))
            raise ApiError(429, "TooManyRequests", "Rate limit exceeded, retry later")
        return remaining

    def _check_auth(self, header: str | None) -> None:
        if header is not None and hmac.compare_digest(header.encode(), self._expected_auth):
            return
        if header is not None and header[:6].lower() == "basic ":
            try:
                base64.b64decode(header[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(401, "Unauthorized", "Malformed Authorization header") from None
        raise ApiError(401, "Unauthorized", "Missing or invalid API credentials")

    def _dispatch(
        self,
        method: str,
        matched: tuple[Route, dict[str, str]] | None,
        query: dict[str, str],
        rule: FaultRule | None,
    ) -> bytes:
        if matched is None:
            raise ApiError(404, "NotFound", "The requested resource was not found")
        route, params = matched
        if method != "GET":
            raise ApiError(405, "MethodNotAllowed", f"Method {method} is not allowed here")
        with self._state.lock:
            if rule is not None and rule.kind == fk.ENDLESS_EMPTY_PAGES:
                data, message = _endless_page(query), None
            else:
                data, message = route.handler(self._state, params, query)
            if rule is not None and rule.kind in fk.LIST_KINDS:
                data = _cursor_fault(rule, data, query)
            envelope: dict[str, Any] = {"code": "Success"}
            if message is not None:
                envelope["message"] = message
            envelope["data"] = data
            return dump(envelope)

    def _fault_outcome(self, rule: FaultRule) -> Outcome:
        if rule.kind == fk.DROP:
            return Outcome(0, drop=True)
        if rule.kind == fk.MALFORMED_JSON:
            body: Any = rule.body or '{"code":"Success","data":{"items":[{"id":"broken",}'
            return self._raw(200, body, force_json=True)
        if rule.kind == fk.ANSWER:
            return self._raw(rule.status or 200, rule.body, force_json=True)
        status, default = {
            fk.HTTP_ERROR: (rule.status or 500, None),
            fk.ENVELOPE_ERROR: (
                200,
                {"code": "SomethingElse", "message": "Simulated unexpected response code"},
            ),
            fk.PLAN_GATED: (
                403,
                {"code": "Forbidden", "message": "This feature is not available on your plan"},
            ),
            fk.ABSENT: (
                404,
                {"code": "NotFound", "message": "The requested resource was not found"},
            ),
        }[rule.kind]
        if default is None:
            default = {"code": default_code(status), "message": f"Simulated HTTP {status} error"}
        outcome = self._raw(status, rule.body if rule.body is not None else default)
        if rule.retry_after is not None:
            value = rule.retry_after
            text = str(int(value)) if float(value).is_integer() else str(value)
            outcome.headers.append(("Retry-After", text))
        return outcome

    def _raw(self, status: int, body: Any, force_json: bool = False) -> Outcome:
        headers = self._common_headers()
        if isinstance(body, str):
            if not force_json:
                headers[0] = ("Content-Type", "text/html;charset=UTF-8")
            return Outcome(status, headers, body.encode())
        return Outcome(status, headers, dump(body))


def _cursor_fault(rule: FaultRule, data: Any, query: Mapping[str, str]) -> Any:
    """Apply ``repeat_cursor`` / ``empty_page_with_cursor`` to a list payload."""
    if not isinstance(data, dict) or "items" not in data:
        return data
    if rule.kind == fk.EMPTY_PAGE_WITH_CURSOR:
        return {"items": [], "next_cursor": encode_cursor(RESTART)}
    if rule.kind == fk.ENDLESS_EMPTY_PAGES:
        return data
    cursor = query.get("cursor") or data.get("next_cursor") or encode_cursor(RESTART)
    return {**data, "next_cursor": cursor}


def _endless_page(query: Mapping[str, str]) -> dict[str, Any]:
    """An empty page naming a cursor never served before (the page count)."""
    served = decode_cursor(query["cursor"]) if query.get("cursor") else 0
    return {"items": [], "next_cursor": encode_cursor(int(served or 0) + 1)}


def _inflate_to(outcome: Outcome, size: int) -> None:
    """Gzip the body behind ``size`` bytes of leading whitespace (still valid JSON)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = []
    padding = b" " * BOMB_CHUNK
    for start in range(0, size, BOMB_CHUNK):
        parts.append(packer.compress(padding[: min(BOMB_CHUNK, size - start)]))
    parts.append(packer.compress(outcome.body))
    parts.append(packer.flush())
    outcome.body = b"".join(parts)
    outcome.headers.append(("Content-Encoding", "gzip"))
