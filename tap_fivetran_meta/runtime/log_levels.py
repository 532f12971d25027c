"""What the tap logs at INFO, and what never reaches a log line.

At the default level a run logs a constant number of lines, whatever the number of
connections: singer-sdk's per-request and per-context lines (METRIC timings, "Beginning
sync ... with context keys", "Starting incremental sync ...", one set per connection
and child stream: about 27 lines per connection) are demoted to DEBUG, where they are
still available with ``TAP_FIVETRAN_META_LOGLEVEL=DEBUG``. Per-stream totals
(``record_count``, ``http_request_count``, ``sync_duration`` of whole streams) stay at INFO.

The SDK's Test Connection (``--test``) stops each stream after one record by raising an
abort exception, which the SDK logs as "An unhandled error occurred while syncing" at
ERROR; that planned stop is demoted to DEBUG, and so is the same line before an API
failure the command line reports itself in one line. Unexpected errors keep it.

Warnings and errors are scrubbed of HTTP ``Basic``/``Bearer`` credentials before they
are written, whichever code logged them (see ``redact.scrub_auth_tokens``). Every line
at every level is cleaned of the literal values of the run's secrets (API key and
secret, in every spelling: URL-encoded, base64 of ``key:secret``, inside URLs) by one
:class:`SecretMaskFilter` on the tap's loggers and on the root logger's handlers, so
text from any library or error path is covered (:func:`install_secret_mask`).

The filters sit on the tap's own loggers (one per stream, named by the SDK
``tap-fivetran-meta.<stream>``) and on the SDK's metrics logger; installing them twice
is harmless.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.exceptions import (
    AbortedSyncExceptionBase,
    FatalAPIError,
    MaxRecordsLimitException,
    RetriableAPIError,
)
from singer_sdk.metrics import METRICS_LOGGER_NAME, Metric, Point

from tap_fivetran_meta.rules.redact import SecretMask, scrub_auth_tokens
from tap_fivetran_meta.runtime.blocked_output import is_output_failure

if TYPE_CHECKING:
    from collections.abc import Iterable

#: singer-sdk 0.54 message templates written once per connection (or per parent record).
PER_CONTEXT_TEMPLATES = frozenset(
    {
        "Beginning sync of '%s' in %s mode with context keys: %s",
        "Starting incremental sync of '%s' with bookmark value: %s",
    }
)
#: Written once per run but only of interest to the tap's developers.
DEVELOPER_TEMPLATES = frozenset({"Added '%s' as child stream to '%s'"})
#: What the SDK logs when a stream stops, planned or not.
SYNC_ERROR_TEMPLATE = "An unhandled error occurred while syncing '%s'"
#: Failures the command line logs as one line of its own (see ``tap._readable_errors``).
REPORTED_FAILURES = (FatalAPIError, RetriableAPIError, requests.RequestException)


def _demote(record: logging.LogRecord) -> bool:
    """Make ``record`` a DEBUG record; keep it only if its logger shows DEBUG."""
    record.levelno = logging.DEBUG
    record.levelname = logging.getLevelName(logging.DEBUG)
    return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _is_reported_elsewhere() -> bool:
    """Whether the exception being handled needs no "unhandled error" line of its own.

    That is the SDK's record-limit stop of ``--test``, and the API failures the tap's
    command line reports itself, as one line, when the run ends.
    """
    exc = sys.exc_info()[1]
    planned_stop = isinstance(exc, AbortedSyncExceptionBase) and isinstance(
        exc.__cause__, MaxRecordsLimitException
    )
    return planned_stop or isinstance(exc, REPORTED_FAILURES) or is_output_failure(exc)


class TapLogFilter(logging.Filter):
    """Demotes per-connection SDK lines to DEBUG; scrubs credentials from warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Decide whether ``record`` is written, adjusting its level or text.

        Returns:
            True to write the record.
        """
        template = record.msg if isinstance(record.msg, str) else ""
        if template in PER_CONTEXT_TEMPLATES or template in DEVELOPER_TEMPLATES:
            return _demote(record)
        if template == SYNC_ERROR_TEMPLATE and _is_reported_elsewhere():
            return _demote(record)
        if record.levelno >= logging.WARNING:
            _scrub(record)
        return True


def _scrub(record: logging.LogRecord) -> None:
    text = record.getMessage()
    clean = scrub_auth_tokens(text)
    if clean != text:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None:
        exc_text = scrub_auth_tokens(str(record.exc_info[1]))
        if exc_text != str(record.exc_info[1]):
            # The traceback would repeat the credential; keep the scrubbed text only.
            record.msg = f"{record.msg} ({exc_text})"
            record.exc_info = None


class SecretMaskFilter(logging.Filter):
    """Replaces the run's secret values, in any spelling, in every record it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.mask = SecretMask()

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's text (and its exception's); always keep the record.

        Returns:
            True.
        """
        if not self.mask:
            return True
        text = record.getMessage()
        clean = self.mask(text)
        if clean != text:
            record.msg, record.args = clean, ()
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            exc_text = str(exc)
            if self.mask(exc_text) != exc_text:
                # The traceback would repeat the secret; keep the masked text only.
                record.msg = f"{record.msg} ({self.mask(exc_text)})"
                record.exc_info, record.exc_text = None, None
        return True


#: The one mask filter of the process (its mask is replaced by each tap instance).
SECRET_MASK_FILTER = SecretMaskFilter()


def install_secret_mask(mask: SecretMask, tap_name: str, stream_names: Iterable[str]) -> None:
    """Mask ``mask``'s values in every line: the tap's loggers and the root's handlers."""
    SECRET_MASK_FILTER.mask = mask
    targets: list[logging.Filterer] = [logging.getLogger(tap_name)]
    targets += [logging.getLogger(f"{tap_name}.{name}") for name in stream_names]
    targets += logging.getLogger().handlers
    targets += logging.getLogger(tap_name).handlers
    for target in targets:
        if SECRET_MASK_FILTER not in target.filters:
            target.addFilter(SECRET_MASK_FILTER)


def is_per_object_metric(point: Point[Any]) -> bool:
    """Whether a METRIC point describes one request or one connection, not a stream."""
    return bool(point.tags.get("context")) or point.metric == Metric.HTTP_REQUEST_DURATION


class PerObjectMetricsFilter(logging.Filter):
    """Demotes per-request and per-context METRIC lines to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep stream-level metrics at their level, demote per-object ones.

        Returns:
            True to write the record.
        """
        args = record.args
        point = args[0] if isinstance(args, tuple) and args else None
        if isinstance(point, Point) and is_per_object_metric(point):
            return _demote(record)
        return True


def _add_once(logger: logging.Logger, log_filter: logging.Filter) -> None:
    if not any(type(existing) is type(log_filter) for existing in logger.filters):
        logger.addFilter(log_filter)


def install_log_filters(tap_name: str, stream_names: Iterable[str]) -> None:
    """Attach the filters to the tap's logger, each stream's logger and the metrics logger."""
    _add_once(logging.getLogger(tap_name), TapLogFilter())
    for name in stream_names:
        _add_once(logging.getLogger(f"{tap_name}.{name}"), TapLogFilter())
    _add_once(logging.getLogger(METRICS_LOGGER_NAME), PerObjectMetricsFilter())
