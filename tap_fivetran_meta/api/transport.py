"""HTTP transport limits: a cap on the decoded body size and a deadline for the whole body.

requests reads a body to its end before the tap sees it, however large it inflates
(a 2 MB gzip bomb took 4 GB of memory) and however slowly it arrives (its timeout is
per socket read, so a body dripped one byte a second never times out). The adapter
here reads the body itself, in chunks of at most :data:`CHUNK_BYTES` per socket read
(urllib3 decompresses no more than that at a time), and gives up:

* once the decoded body passes ``max_body_bytes``: :class:`ResponseTooLargeError`,
  not retried (the same request would bring the same body);
* once the body has not arrived ``timeout`` seconds after the request was sent:
  ``requests.exceptions.ReadTimeout``, retried like any other timeout.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from tap_fivetran_meta.api.errors import ResponseTooLargeError

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from requests import PreparedRequest, Response

CHUNK_BYTES = 64 * 1024
MEBIBYTE = 1024 * 1024


class BoundedAdapter(HTTPAdapter):
    """An HTTPAdapter that caps the decoded body size and bounds the body's arrival time."""

    def __init__(self, *, max_body_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_body_bytes = max_body_bytes

    @override
    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        """Send the request; read its body within the size cap and the deadline."""
        started = time.monotonic()
        response = super().send(
            request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        if stream:
            return response  # the caller reads the body itself
        seconds = _total_seconds(timeout)
        deadline = None if seconds is None else started + seconds
        try:
            body = self._read_body(response, deadline, seconds)
        except BaseException:
            response.close()
            raise
        # What Response.content caches once it has read the body itself.
        response.__dict__.update(_content=body, _content_consumed=True)
        return response

    def _read_body(
        self, response: Response, deadline: float | None, seconds: float | None
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in _chunks(response):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ResponseTooLargeError(_too_large(response, self.max_body_bytes))
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                msg = (
                    f"The answer to GET {_path(response)} was still arriving "
                    f"{seconds:.0f} s after the request (request_timeout): "
                    f"{size} bytes so far"
                )
                raise requests.exceptions.ReadTimeout(msg, response=response)
        return b"".join(chunks)


def _chunks(response: Response) -> Any:
    """The decoded body, one socket read at a time (requests' exception mapping)."""
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    try:
        if read1 is None:  # urllib3 < 2.3: whole chunks, still bounded per read
            yield from raw.stream(CHUNK_BYTES, decode_content=True)
            return
        while True:
            chunk = read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                return
            yield chunk
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None


def _total_seconds(timeout: Any) -> float | None:
    """The whole-answer deadline for a requests ``timeout`` (number or (connect, read))."""
    if isinstance(timeout, (int, float)):
        return float(timeout)
    if isinstance(timeout, tuple) and all(isinstance(t, (int, float)) for t in timeout):
        return float(sum(timeout))
    return None


def _path(response: Response) -> str:
    return urlparse(response.url or "").path or "?"


def _too_large(response: Response, cap: int) -> str:
    return (
        f"The answer to GET {_path(response)} is larger than max_response_mb="
        f"{cap // MEBIBYTE} MB once decompressed; stopping instead of reading it "
        "(Fivetran's answers are far smaller: a proxy or a hostile server?). Raise "
        "max_response_mb only if such an answer is genuine."
    )
