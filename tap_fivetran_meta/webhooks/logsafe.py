r"""Every line the webhook tools write: no secret, no forged line.

Two things are done to each log line of the ``tap_fivetran_meta.webhooks`` loggers
(and to each line the command line prints, through :func:`safe_text`):

* the literal values of the secrets in use (the webhook secret, and for ``register``
  the API key and secret) are replaced by ``<redacted>`` in every spelling an echo
  can take: plain, URL-encoded, JSON-escaped, base64, and base64 of ``key:secret``
  (:class:`~tap_fivetran_meta.rules.redact.SecretMask`);
* control characters (newlines, carriage returns, ANSI escape sequences, other C0/C1
  controls and Unicode line separators) are written as escapes such as ``\n`` or
  ``\x1b``, so a sender cannot forge log lines or recolour a terminal through the
  values the receiver logs (paths, event names, connection ids).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from tap_fivetran_meta.rules.redact import SecretMask

if TYPE_CHECKING:
    from collections.abc import Iterable

_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def neutralise(text: str) -> str:
    """``text`` with every control character written as a visible escape."""
    if _CONTROL_RE.search(text) is None:
        return text
    return _CONTROL_RE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


class SafeLineFilter(logging.Filter):
    """Masks the secrets in use and neutralises control characters in each record."""

    def __init__(self) -> None:
        super().__init__()
        self.mask = SecretMask()

    def clean(self, text: str) -> str:
        """The text as it may be written."""
        return self.mask(neutralise(text))

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record's message (its traceback only at DEBUG); keep the record.

        Returns:
            True.
        """
        # The message is formatted once here; the handler does not format it again.
        record.msg, record.args = self.clean(record.getMessage()), ()
        if record.exc_info and record.exc_info[1] is not None:
            exc_text = str(record.exc_info[1])
            if self.clean(exc_text) != exc_text:  # the traceback would repeat it
                record.msg = f"{record.msg} ({self.clean(exc_text)})"
                record.exc_info, record.exc_text = None, None
        return True


#: The one filter of the process; :func:`use_secrets` sets what it masks.
SAFE_LINES = SafeLineFilter()


def protect(logger: logging.Logger) -> logging.Logger:
    """Put the filter on ``logger`` (records created through it are cleaned)."""
    if SAFE_LINES not in logger.filters:
        logger.addFilter(SAFE_LINES)
    return logger


def protect_handlers(handlers: Iterable[logging.Handler]) -> None:
    """Put the filter on handlers too: lines from any library logging through them."""
    for handler in handlers:
        if SAFE_LINES not in handler.filters:
            handler.addFilter(SAFE_LINES)


def use_secrets(secrets: Iterable[str], basic_pairs: Iterable[tuple[str, str]] = ()) -> None:
    """Mask these secret values (and the Basic credentials of these pairs) from now on."""
    SAFE_LINES.mask = SecretMask.of(secrets, basic_pairs)


def safe_text(text: str) -> str:
    """A line for the terminal: secrets masked, control characters neutralised."""
    return SAFE_LINES.clean(text)
