"""The one base stream: auth, headers, pagination, retries and error mapping."""

from __future__ import annotations

import logging
import random
import sys
import threading
from datetime import timezone
from email.utils import parsedate_to_datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import BasicAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_fivetran_meta.api.errors import (
    FivetranAPIError,
    FivetranAuthError,
    UnresolvableHostError,
    unresolvable_host,
)
from tap_fivetran_meta.api.pagination import FivetranCursorPaginator
from tap_fivetran_meta.api.payload import (
    BodyTooDeepError,
    MalformedBodyError,
    MalformedEnvelopeError,
    data_object,
    list_items,
    response_payload,
)
from tap_fivetran_meta.rules.config_checks import api_url_hint
from tap_fivetran_meta.rules.item_shape import check_item
from tap_fivetran_meta.rules.redact import scrub_auth_tokens
from tap_fivetran_meta.rules.timeutil import normalize_timestamp, utcnow
from tap_fivetran_meta.runtime.account_scope import ACCOUNT_ID, AccountScoped
from tap_fivetran_meta.runtime.prefetch import read_ahead
from tap_fivetran_meta.runtime.sdk_hooks import MessageHooks, send_prepared

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext


ACCEPT_V2 = "application/json;version=2"
ACCEPT_V1 = "application/json"
VERSIONED_PREFIXES = ("/connections", "/destinations")
MAX_BACKOFF_SECONDS = 60.0
#: The backoff jitter's own generator: drawing from the module-level one would move
#: the random state of whatever else runs in the process (a caller's seeded draws).
_JITTER = random.Random()  # noqa: S311 - jitter, not crypto
#: Failures worth another attempt (the SDK's own list): throttling, 5xx, transport.
RETRIABLE_ERRORS = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

ITEMS_JSONPATH = "$.data.items[*]"
#: First element of the prefetcher keys of whole account-level lists.
LIST_KEY = "list"
_TOLERATED_ATTR = "_fivetran_tolerated"
#: Set on requests whose caller counts a vanished object itself (see _get).
_CALLER_COUNTS_ATTR = "_fivetran_caller_counts"
#: Skip reason of an object whose answer said Success without a ``data`` object.
MALFORMED_ANSWER = "MalformedAnswer"
#: Primary-key columns the tap sets on every row itself, after the checks below
#: (``account_id``, issue 17): API items and rows are checked for the other keys.
INJECTED_KEYS = frozenset({ACCOUNT_ID})


def accept_header_for(path: str) -> str:
    """The Accept header Fivetran expects for an endpoint path (relative to /v1)."""
    return ACCEPT_V2 if path.startswith(VERSIONED_PREFIXES) else ACCEPT_V1


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or HTTP date), if any."""
    if response is None:
        return None
    raw = response.headers.get("Retry-After")
    if raw is None or not raw.strip():
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": a UTC time with no source zone (RFC 5322)
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - utcnow()).total_seconds())


def is_not_found_code(code: str | None) -> bool:
    """Whether a 404's code says "this object does not exist".

    Fivetran answers a bare ``NotFound`` as often as ``NotFound_<Entity>``; its own
    Terraform provider treats every code starting with ``NotFound`` as "gone".
    """
    return (code or "").startswith("NotFound")


def error_summary(response: requests.Response) -> str:
    """A one-line, credential-free description of a failed response."""
    code, message = _fivetran_code_and_message(response)
    path = urlparse(response.url).path if response.url else "?"
    parts = [f"HTTP {response.status_code} for GET {path}"]
    if code or message:
        parts.append(f"Fivetran said {code or '?'}: {(message or '').strip()[:300]}")
    request_id = response.headers.get("X-Request-Id")
    if request_id:
        parts.append(f"request id {request_id}")
    return scrub_auth_tokens("; ".join(parts))  # an API may echo the Authorization header


def _fivetran_code_and_message(response: requests.Response) -> tuple[str | None, str | None]:
    try:
        body = response_payload(response)
    except MalformedBodyError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, message = body.get("code"), body.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


class HeaderBasicAuthenticator(BasicAuthenticator):
    """Basic auth that only sets its header.

    The SDK's authenticator also rebuilds every request URL to add query parameters,
    twice per request, even when there are none; basic auth has none.
    """

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.auth_params:
            return super().authenticate_request(request)
        request.headers.update(self.auth_headers)
        return request


class FivetranStream(AccountScoped, MessageHooks, RESTStream[str | None]):
    """Base stream for every Fivetran REST endpoint.

    Subclasses set ``name``, ``path``, ``primary_keys`` and ``schema`` and, where
    it applies: ``paginated`` (False for single-object endpoints, with
    ``records_jsonpath = "$.data"``), ``optional_resource`` (plan-gated: a 403 or
    404 on the whole resource gives an empty stream and one warning),
    ``tolerate_not_found`` (per-parent children: a ``NotFound`` or ``NotFound_*``
    404 for one parent is skipped and counted in the summary warning) and
    ``timestamp_fields`` (normalised to UTC ISO 8601, dotted paths reach into nested
    objects).
    """

    records_jsonpath = ITEMS_JSONPATH
    paginated: ClassVar[bool] = True
    optional_resource: ClassVar[bool] = False
    tolerate_not_found: ClassVar[bool] = False
    timestamp_fields: ClassVar[tuple[str, ...]] = ()
    #: Describes what this stream needs, for the 403 message (e.g. "CONNECTOR at READ").
    permission_hint: ClassVar[str] = ""
    #: The ``group_ids``/``connection_ids``/``services`` filters narrow this stream's rows,
    #: so a filtered run's read of it is not a complete listing (no ACTIVATE_VERSION).
    narrowed_by_filters: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._warned: set[str] = set()
        self.skip_counts: dict[str, int] = {}
        #: Details read for this stream's rows that could not be had: (what, reason) -> n.
        self.missing_details: dict[tuple[str, str], int] = {}
        self._resource_unavailable = False
        #: Malformed API data seen (skipped items, nulled fields): reason -> count.
        self.malformed_counts: dict[str, int] = {}
        #: Some item or object was skipped as malformed: the read is not complete.
        self._malformed_skipped = False
        #: Why the read left something out that is not malformed data (None: nothing).
        self._incomplete_reason: str | None = None
        # Worker threads (see prefetch.py) share this stream's bookkeeping.
        self._bookkeeping = threading.Lock()

    # --- connection -----------------------------------------------------------------

    @override
    @property
    def url_base(self) -> str:
        return str(self.config.get("api_url", "https://api.fivetran.com/v1")).rstrip("/")

    @override
    @property
    def requests_session(self) -> requests.Session:
        return self.services.http_session

    @override
    @cached_property
    def authenticator(self) -> BasicAuthenticator:
        return HeaderBasicAuthenticator(
            username=str(self.config.get("api_key", "")),
            password=str(self.config.get("api_secret", "")),
        )

    @override
    @property
    def http_headers(self) -> dict[str, str]:
        return {"Accept": accept_header_for(self.path or "")}

    @override
    @cached_property
    def user_agent(self) -> str:
        return self.services.user_agent

    @override
    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 60))

    # --- requests and pages ---------------------------------------------------------

    @override
    def get_new_paginator(self) -> FivetranCursorPaginator | None:
        return FivetranCursorPaginator(self.path or self.name) if self.paginated else None

    @override
    def get_http_request(self, *, page: PageContext[str | None]) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if self.paginated:
            request.params["limit"] = int(self.config.get("page_size", 1000))
            if page.next_page_token:
                request.params["cursor"] = page.next_page_token
        return request

    @override
    def request_decorator(self, func: Any) -> Any:
        """Budget, retries and the stop signal around one request function.

        Each attempt waits for the request budget, is not sent once a signal asked
        the run to stop, and a retriable failure (429, 5xx, timeout, reset, garbled
        body) is retried up to ``max_retries`` times after :meth:`seconds_before_retry`.
        Every wait is interruptible (see shutdown.py).
        """
        stop = self.services.stop
        attempt_once = self.services.rate_budget.wrap(stop.guard(func))

        def with_retries(*args: Any, **kwargs: Any) -> Any:
            attempt = 1
            while True:
                try:
                    return attempt_once(*args, **kwargs)
                except RETRIABLE_ERRORS as exc:
                    if attempt >= self.max_tries():
                        raise
                    wait = self.seconds_before_retry(exc, attempt)
                    self._log_retry(exc, wait, attempt)
                    stop.sleep(wait)
                    attempt += 1

        return with_retries

    @cached_property
    def _budgeted_request(self) -> Callable[..., requests.Response]:
        """``_request`` with budget and retries, built once (the wrappers are reentrant)."""
        return self.request_decorator(send_prepared(self))

    def fetch_data(self, path: str, context: Context | None) -> dict[str, Any] | None:
        """GET one object (``data``) with the stream's auth, retries and error mapping.

        A ``NotFound``/``NotFound_*`` 404 (the object vanished since it was listed) gives
        None, counted in the summary warning, instead of an error.
        """
        return self.fetch_data_or_reason(path, context)[0]

    def fetch_data_or_reason(
        self, path: str, context: Context | None, *, detail_of: str | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Like :meth:`fetch_data`, also saying why there is no data (thread-safe).

        Args:
            path: The object's path.
            context: The stream context.
            detail_of: What the object adds to rows written anyway (e.g. "destination
                details"): a miss is counted in ``missing_details`` under it, not as a
                skipped parent.

        Returns:
            ``(data, None)``, or ``(None, reason)`` where reason is Fivetran's
            ``NotFound*`` code or ``MalformedAnswer`` (both already counted in
            ``skip_counts`` or ``missing_details``), or "unavailable".
        """
        count = self.count_skip if detail_of is None else partial(self.count_missing, detail_of)
        try:
            response, tolerated = self._get(path, context)
        except FivetranAPIError as exc:
            if exc.status == 404 and is_not_found_code(exc.code):
                count(exc.code or "NotFound")
                self.logger.info("Skipping one object in '%s': %s", self.name, exc)
                return None, exc.code or "NotFound"
            raise
        if tolerated:
            if is_not_found_code(tolerated):
                count(tolerated)  # one object vanished (see _handle_client_error)
            return None, tolerated
        try:
            return data_object(response_payload(response)), None
        except MalformedEnvelopeError as exc:
            count(MALFORMED_ANSWER)
            with self._bookkeeping:
                self._malformed_skipped = True
            self.warn_once(
                MALFORMED_ANSWER,
                "Stream '%s': GET %s answered Success but %s; that object is skipped "
                "(further ones are counted in the summary line).",
                self.name,
                path,
                exc,
            )
            return None, MALFORMED_ANSWER

    def _get(
        self, path: str, context: Context | None, params: dict[str, Any] | None = None
    ) -> tuple[requests.Response, str | None]:
        """One GET at an explicit path through the stream's auth, budget and retries.

        Returns:
            The response, and the reason its error was tolerated (None for a success).
        """
        prepared = self.build_prepared_request(
            method="GET",
            url=f"{self.url_base}{path}",
            params=params or {},
            headers={"Accept": accept_header_for(path)},
        )
        setattr(prepared, _CALLER_COUNTS_ATTR, True)  # a vanished object: the caller counts
        response = self._budgeted_request(prepared, context)
        tolerated = response.__dict__.get(_TOLERATED_ATTR)
        return response, (str(tolerated) if tolerated else None)

    def fetch_list(
        self, path: str, context: Context | None, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """GET every page of a list endpoint at an explicit path (thread-safe).

        Same auth, paging, retries and error mapping as the stream's own requests; a
        tolerated error (plan-gated resource, vanished parent) gives an empty list.
        """
        return self.fetch_list_or_reason(path, context, params)[0]

    def fetch_list_or_reason(
        self, path: str, context: Context | None, params: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Like :meth:`fetch_list`, also saying why the list stopped early.

        Returns:
            The items, and None, or the reason a tolerated error ended the read (the
            ``NotFound*`` code, "unavailable", or what the stream's error mapping set).
        """
        paginator = FivetranCursorPaginator(path)
        items: list[dict[str, Any]] = []
        while not paginator.finished:
            query = {"limit": int(self.config.get("page_size", 1000)), **(params or {})}
            if paginator.current_value:
                query["cursor"] = paginator.current_value
            response, tolerated = self._get(path, context, query)
            if tolerated:
                if is_not_found_code(tolerated):
                    self.count_skip(tolerated)  # one object vanished
                return items, tolerated
            page = self.page_items(response)
            items.extend(page)
            if not page and not paginator.continue_if_empty(response):
                break
            paginator.advance(response)
        return items, None

    # --- account-level lists read ahead (see prefetch.py) -------------------------------

    def _listed_items(self, context: Context | None) -> Iterable[Any]:
        """The stream's own items: the list read ahead, when it was, else the API's pages."""
        key = self.list_prefetch_key
        if context is None and self.services.prefetcher.is_pending(key):
            items, _ = self.services.prefetcher.take(key, lambda: ([], None))
            yield from items
            return
        yield from super().request_records(context)

    @property
    def list_prefetch_key(self) -> tuple[str, str]:
        """The prefetcher's key for this stream's whole list."""
        return (LIST_KEY, self.name)

    def can_prefetch_list(self) -> bool:
        """Whether this top-level list can be read ahead while other streams sync."""
        return (
            self.parent_stream_type is None
            and self.paginated
            and "{" not in (self.path or "{")
            and (self.selected or self.has_selected_descendents)
        )

    def prefetch_list(self) -> None:
        """Read this stream's whole list in the background (same requests, same rules).

        The stream then takes the pages instead of asking the API when it syncs; an
        error is raised there, as in a sequential run. Output does not change.
        """
        path = str(self.path)
        self.services.prefetcher.submit(
            self.list_prefetch_key, lambda: self.fetch_list_or_reason(path, None)
        )

    # --- concurrent child fetches (see prefetch.py) --------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        records = super().get_records(context)
        prefetcher = self.services.prefetcher
        if not prefetcher.enabled or not self.child_streams:
            yield from records
            return
        try:
            yield from read_ahead(
                records,
                lambda record: self._prefetch_children(record, context),
                prefetcher.lookahead,
            )
        finally:
            prefetcher.cancel_pending(keep=LIST_KEY)

    def _prefetch_children(self, record: dict[str, Any], context: Context | None) -> bool:
        """Submit the children's work for one parent; False if some must wait (retried)."""
        if not self.accepts_parent(record):
            return True
        child_context = dict(self.get_child_context(record, context) or {})
        ready = True
        planned: list[tuple[Hashable, Any]] = []
        for child in self.child_streams:
            if (child.selected or child.has_selected_descendents) and isinstance(
                child, FivetranStream
            ):
                jobs = child.prefetch_jobs(child_context)
                if jobs is None:
                    ready = False
                    continue
                planned.extend(jobs)
        self.services.prefetcher.submit_all(planned)  # one task per parent
        return ready

    def with_details(
        self,
        items: Iterable[dict[str, Any]],
        path_of: Callable[[dict[str, Any]], str],
        context: Context | None,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Pair each listed item with its detail object, fetched ahead on the pool.

        The detail is None when the object vanished since it was listed (counted in
        the summary warning). Items come out in list order, whatever the concurrency.
        """
        prefetcher = self.services.prefetcher

        def fetch(item: dict[str, Any]) -> Callable[[], dict[str, Any] | None]:
            return lambda: self.fetch_data(path_of(item), context)

        def plan(item: dict[str, Any]) -> bool:
            prefetcher.submit((self.name, path_of(item)), fetch(item))
            return True

        for item in read_ahead(items, plan, prefetcher.lookahead):
            yield item, prefetcher.take((self.name, path_of(item)), fetch(item))

    def accepts_parent(self, record: dict[str, Any]) -> bool:
        """Whether a raw record will be kept (so its children are worth prefetching)."""
        return True

    def prefetch_jobs(self, context: dict[str, Any]) -> Iterable[tuple[Hashable, Any]] | None:
        """Request work this child stream can do ahead of time for one parent context.

        Each item is ``(key, job)``: ``job()`` performs the requests and returns their
        result; the stream later calls ``self.services.prefetcher.take(key, job)`` to get it.
        None means "not yet": the parent asks again a little later.
        """
        return ()

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        if response.__dict__.get(_TOLERATED_ATTR):
            return
        if self.paginated:
            yield from self.page_items(response)
            return
        try:
            data_object(response_payload(response))
        except MalformedEnvelopeError as exc:
            raise self._envelope_error(response, exc) from None
        yield from extract_jsonpath(self.records_jsonpath, input=response_payload(response))

    def page_items(self, response: requests.Response) -> list[Any]:
        """The items of one list page (``data.items``), or a clear error.

        Raises:
            FivetranAPIError: If the answer is not a well-formed list page.
        """
        try:
            return list_items(response_payload(response))
        except MalformedEnvelopeError as exc:
            raise self._envelope_error(response, exc) from None

    def _envelope_error(
        self, response: requests.Response, problem: MalformedEnvelopeError
    ) -> FivetranAPIError:
        path = urlparse(response.url).path if response.url else self.path
        request_id = response.headers.get("X-Request-Id")
        msg = (
            f"Fivetran answered GET {path} with code 'Success' but a malformed body: "
            f"{problem}. Stopping: reading it as an empty list would mark rows deleted."
            + (f" Request id {request_id}." if request_id else "")
        )
        return FivetranAPIError(msg, status=response.status_code, code="MalformedResponse")

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The stream's own items, each checked against its schema (see item_shape.py)."""
        for item in self._listed_items(context):
            checked = self.checked_item(item)
            if checked is not None:
                yield checked

    def checked_item(self, item: Any) -> dict[str, Any] | None:
        """An API item as a record-to-be, or None when it is skipped as malformed.

        Fields of the wrong type become null; both are counted and warned about.
        """
        keys = self.keys_from_api
        check = check_item(item, self.schema, keys)
        if check.skipped is not None:
            what = item.get(keys[0]) if isinstance(item, dict) and keys else item
            self.note_malformed(
                f"item with {check.skipped}",
                f"Fivetran sent an item with {check.skipped} (got {str(what)[:80]!r}); "
                "it is skipped",
                skipped=True,
            )
            return None
        for path in check.nulled:
            self.note_malformed(
                f"field {path} of the wrong type",
                f"Fivetran sent field '{path}' of item "
                f"{str(check.item and check.item.get('id'))[:80]!r} with a type its schema "
                "does not allow; it is emitted as null",
            )
        return check.item

    @property
    def keys_from_api(self) -> tuple[str, ...]:
        """The primary-key columns an API item or a row must carry (not the injected ones)."""
        return tuple(k for k in self.primary_keys or () if k not in INJECTED_KEYS)

    def note_malformed(self, reason: str, detail: str, *, skipped: bool = False) -> None:
        """Count one piece of malformed data (API or state); warn the first time per reason.

        Args:
            reason: Short label, the key of the end-of-stream summary.
            detail: The first occurrence in words, with what the tap does about it.
            skipped: Whether data was left out (the read is then not complete, so
                no ACTIVATE_VERSION follows).
        """
        with self._bookkeeping:
            first = reason not in self.malformed_counts
            self.malformed_counts[reason] = self.malformed_counts.get(reason, 0) + 1
            if skipped:
                self._malformed_skipped = True
        if first:
            self.logger.warning(
                "Stream '%s': %s (further cases are counted in the end-of-stream summary).",
                self.name,
                detail,
            )

    # --- response validation and error mapping ----------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(error_summary(response), response)
        if status >= 400:
            self._handle_client_error(response)
            return
        try:
            body = response_payload(response)
        except BodyTooDeepError as exc:
            msg = f"Fivetran's answer to GET {urlparse(response.url).path}: {exc}"
            raise FivetranAPIError(msg, status=status, code="MalformedResponse") from None
        except MalformedBodyError as exc:
            # Truncated or garbled bodies are transport trouble: worth a retry.
            msg = f"{exc} for GET {urlparse(response.url).path}"
            raise RetriableAPIError(msg, response) from None
        self._check_envelope(body, response)

    def _check_envelope(self, body: Any, response: requests.Response) -> None:
        if not isinstance(body, dict):
            msg = f"Unexpected response shape for GET {urlparse(response.url).path}: not an object"
            raise FivetranAPIError(msg, status=response.status_code)
        code = body.get("code")
        if code != "Success":
            msg = (
                f"Fivetran answered GET {urlparse(response.url).path} with code {code!r} "
                f"instead of 'Success': {str(body.get('message') or '')[:300]}"
            )
            raise FivetranAPIError(msg, status=response.status_code, code=str(code))

    def _handle_client_error(self, response: requests.Response) -> None:
        status = response.status_code
        code, _ = _fivetran_code_and_message(response)
        summary = error_summary(response)
        if status == 401:
            msg = (
                f"Fivetran rejected the API credentials ({summary}). Check api_key and "
                "api_secret: both must come from the same key, the key must not be revoked "
                "or expired, and the account's plan must include REST API access."
            )
            raise FivetranAuthError(msg, status=status, code=code)
        vanished = is_not_found_code(code) and (
            self.tolerate_not_found or self._is_detail_request(response)
        )
        if status == 404 and vanished:
            self._tolerate(response, whole_resource=False, reason=code or "NotFound")
            if not getattr(response.request, _CALLER_COUNTS_ATTR, False):
                self.count_skip(code or "NotFound")
            self.logger.info("Skipping one parent in '%s': %s", self.name, summary)
            return
        if self.optional_resource and status in {403, 404}:
            self._tolerate(response, whole_resource=True)
            self.warn_once(
                "unavailable",
                "Stream '%s' is not available to this API key or plan (%s); it is "
                "emitted empty and the run goes on.",
                self.name,
                summary,
            )
            return
        if status == 403:
            hint = f" Needs {self.permission_hint}." if self.permission_hint else ""
            msg = (
                f"The API key may not read '{self.name}' ({summary}).{hint} Use a system key "
                "with READ access on the resource types the tap reads (see SECURITY.md), or "
                "a scoped key of a user who can see them."
            )
            raise FivetranAuthError(msg, status=status, code=code)
        hint = api_url_hint(self.url_base) if status == 404 else ""
        raise FivetranAPIError(f"Request failed: {summary}{hint}", status=status, code=code)

    def _is_detail_request(self, response: requests.Response) -> bool:
        """Whether the request was for one listed object, not the stream's own list.

        A ``NotFound`` there means that object vanished since it was listed (one
        skipped object), never that the whole resource is unavailable to the key.
        """
        listed = urlparse(f"{self.url_base}{self.path}").path.rstrip("/")
        return urlparse(response.url).path.rstrip("/") != listed

    def _tolerate(
        self, response: requests.Response, *, whole_resource: bool, reason: str = "unavailable"
    ) -> None:
        response.__dict__[_TOLERATED_ATTR] = reason
        response.__dict__["_fivetran_payload"] = {}
        if whole_resource:
            self._resource_unavailable = True

    def warn_once(self, key: str, msg: str, *args: Any) -> None:
        """Log a warning the first time ``key`` is seen for this stream."""
        with self._bookkeeping:
            if key in self._warned:
                return
            self._warned.add(key)
        self.logger.warning(msg, *args)

    def count_skip(self, reason: str) -> None:
        """Count one skipped parent for the end-of-run summary line."""
        with self._bookkeeping:
            self.skip_counts[reason] = self.skip_counts.get(reason, 0) + 1

    def count_missing(self, what: str, reason: str) -> None:
        """Count one detail (``what``) this stream's rows were written without."""
        with self._bookkeeping:
            key = (what, reason)
            self.missing_details[key] = self.missing_details.get(key, 0) + 1

    def log_missing_details(self) -> None:
        """One line per kind of detail the rows lack; a warning only if not vanished."""
        by_what: dict[str, dict[str, int]] = {}
        for (what, reason), count in sorted(self.missing_details.items()):
            by_what.setdefault(what, {})[reason] = count
        for what, reasons in by_what.items():
            vanished = all(is_not_found_code(reason) for reason in reasons)
            self.logger.log(
                logging.INFO if vanished else logging.WARNING,
                "Stream '%s': %d %s could not be read (%s); its rows were written without them.",
                self.name,
                sum(reasons.values()),
                what,
                ", ".join(f"{k}={v}" for k, v in reasons.items()),
            )

    # --- retries ------------------------------------------------------------------------

    def max_tries(self) -> int:
        """Attempts of one request: the first plus ``max_retries``."""
        return int(self.config.get("max_retries", 5)) + 1

    def seconds_before_retry(self, exception: BaseException, attempt: int) -> float:
        """How long to wait before retry ``attempt``: ``Retry-After`` or capped exponential.

        Raises:
            FivetranAPIError: If the server asks for a longer wait than ``max_retry_wait``.
        """
        host = unresolvable_host(exception)
        if host:  # a DNS failure is a typo in api_url, not worth minutes of retries
            raise UnresolvableHostError(host, self.url_base)
        response = getattr(exception, "response", None)
        asked = retry_after_seconds(response)
        limit = float(self.config.get("max_retry_wait", 900))
        if asked is not None:
            if asked > limit:
                path = urlparse(response.url).path if response is not None else self.path
                msg = (
                    f"Fivetran asked to wait {asked:.0f} s before retrying GET {path} "
                    f"(rate limit), more than max_retry_wait={limit:.0f} s. Run again "
                    "later, raise max_retry_wait, or lower max_requests_per_hour."
                )
                raise FivetranAPIError(msg, status=429)
            return asked
        base = float(self.config.get("retry_backoff_base", 1.0))
        ceiling = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1))
        return _JITTER.uniform(ceiling / 2, ceiling)

    def _log_retry(self, exc: BaseException, wait: float, attempt: int) -> None:
        response = getattr(exc, "response", None)
        what = error_summary(response) if response is not None else type(exc).__name__
        self.logger.warning(
            "Retrying '%s' in %.1f s (attempt %d of %d): %s",
            self.name,
            wait,
            attempt + 1,
            self.max_tries(),
            what,
        )

    # --- records ------------------------------------------------------------------------

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        missing = [k for k in self.keys_from_api if not _usable_key(row.get(k))]
        if missing:
            self.note_malformed(
                f"row without {missing[0]}",
                f"Fivetran sent data for a row without a usable '{missing[0]}' (primary "
                "key); the row is skipped",
                skipped=True,
            )
            return None
        self.services.activation.begin(self)
        for field in self.timestamp_fields:
            _normalize_path(row, field.split("."))
        return super().post_process(row, context)

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        # ACTIVATE_VERSION is written once, after the stream completed (see activation.py),
        # never at the start as the SDK would do: an interrupted run must not mark
        # every row deleted.
        return False

    @override
    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        super().finalize_state_progress_markers(state)
        if state is None and self.selected:
            read_all = not (
                self._resource_unavailable or self._malformed_skipped or self._incomplete_reason
            )
            self.services.activation.note_complete(self.name, complete=read_all)
            self.services.activation.finish(self, incomplete=self.incomplete_reason())
            self.log_skips()

    def mark_incomplete(self, reason: str) -> None:
        """Record that this run's read of the stream left rows out (thread-safe)."""
        with self._bookkeeping:
            self._incomplete_reason = self._incomplete_reason or reason

    def incomplete_reason(self) -> str | None:
        """Why this run's read is not a complete listing of the stream (None: it is).

        Only a complete listing may be followed by ACTIVATE_VERSION: anything missing
        from it would be flagged deleted in the target. A child stream is complete only
        when its parent is.
        """
        own = (
            (self._resource_unavailable, "the resource was unavailable or left out"),
            (self._malformed_skipped, "malformed data was skipped"),
            (bool(self._incomplete_reason), str(self._incomplete_reason)),
            (
                self.narrowed_by_filters and self.services.filters.filters_connections,
                "the run is filtered (group_ids/connection_ids/services)",
            ),
        )
        reasons = [reason for applies, reason in own if applies]
        if reasons:
            return reasons[0]
        parent_type = self.parent_stream_type
        for parent in self.services.streams.values() if parent_type else ():
            if type(parent) is parent_type:
                reason = getattr(parent, "incomplete_reason", lambda: None)()
                return f"its parent '{parent.name}': {reason}" if reason else None
        return None

    def log_skips(self) -> None:
        """Log one summary line of the parents this stream skipped, if any."""
        self.log_missing_details()
        if self.skip_counts:
            summary = ", ".join(f"{k}={v}" for k, v in sorted(self.skip_counts.items()))
            self.logger.warning("Stream '%s' skipped parents: %s", self.name, summary)
        if self.malformed_counts:
            summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.malformed_counts.items()))
            activation = (
                " No ACTIVATE_VERSION for it in this run (the read was not complete)."
                if self._malformed_skipped and self.services.activation.enabled
                else ""
            )
            self.logger.warning(
                "Stream '%s' met malformed data: %s.%s", self.name, summary, activation
            )


def _usable_key(value: Any) -> bool:
    """A primary-key value a target can use: a non-empty string or a number."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _normalize_path(node: Any, keys: list[str]) -> None:
    if not isinstance(node, dict) or not keys:
        return
    head, rest = keys[0], keys[1:]
    if head not in node:
        return
    if rest:
        child = node[head]
        for item in child if isinstance(child, list) else [child]:
            _normalize_path(item, rest)
    elif node[head] is not None:
        node[head] = normalize_timestamp(node[head])
