"""The ``tap-fivetran-meta-webhooks`` command: ``serve``, ``register``, ``send-test``.

Secrets come from environment variables only, never from arguments (which show up
in ``ps`` and shell history), and are never printed or logged: every line goes through
:mod:`.logsafe`, which masks their values in any spelling (an API answer or a test
delivery's report may echo them) and neutralises control characters.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import math
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from tap_fivetran_meta import __version__
from tap_fivetran_meta.rules.redact import scrub_auth_tokens
from tap_fivetran_meta.webhooks.logsafe import protect, protect_handlers, safe_text, use_secrets
from tap_fivetran_meta.webhooks.receiver import (
    DEFAULT_MAX_CONNECTIONS,
    ReceiverConfig,
    WebhookServer,
    serve_until,
)
from tap_fivetran_meta.webhooks.register import (
    DEFAULT_API_URL,
    DEFAULT_EVENTS,
    Credentials,
    RegisterError,
    WebhookAdmin,
    check_url,
    parse_events,
)
from tap_fivetran_meta.webhooks.sender import encode_payload, post_delivery, sample_payload
from tap_fivetran_meta.webhooks.signature import secret_problem
from tap_fivetran_meta.webhooks.store import Inbox, InboxError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

LOG = protect(logging.getLogger("tap_fivetran_meta.webhooks"))

SECRET_ENV = "FIVETRAN_WEBHOOK_SECRET"  # noqa: S105  (a variable name, not a secret)
API_KEY_ENV = "FIVETRAN_API_KEY"
API_SECRET_ENV = "FIVETRAN_API_SECRET"  # noqa: S105  (a variable name, not a secret)
EXIT_USAGE = 2


class CliError(Exception):
    """A problem reported as one ``error:`` line with exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status.
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    protect_handlers(logging.getLogger().handlers)
    try:
        return int(args.run(args))
    except (CliError, RegisterError, InboxError) as exc:
        _say(f"error: {scrub_auth_tokens(str(exc))}", error=True)
        return EXIT_USAGE


def _say(line: str, *, error: bool = False) -> None:
    """Print one line, secrets masked and control characters neutralised."""
    print(safe_text(line), file=sys.stderr if error else sys.stdout)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-fivetran-meta-webhooks",
        description="Receive Fivetran webhooks into a SQLite inbox read by tap-fivetran-meta.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve(commands)
    _add_register(commands)
    _add_send_test(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="receive deliveries into an inbox")
    serve.add_argument("--inbox", required=True, help="SQLite inbox file (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8787, help="TCP port, 0 = any free one")
    serve.add_argument(
        "--secret-env",
        default=None,
        help=f"environment variable holding the webhook secret (default {SECRET_ENV})",
    )
    serve.add_argument(
        "--insecure-no-signature",
        action="store_true",
        help="run without a secret and store UNSIGNED deliveries (local testing only)",
    )
    serve.add_argument("--max-body-bytes", type=_positive_int, default=1_048_576)
    serve.add_argument("--path", type=_url_path, default="/webhook", help="delivery path")
    serve.add_argument(
        "--request-timeout",
        type=_positive_float,
        default=10.0,
        help="seconds a client has to send a whole request, headers and body (default 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive_int,
        default=DEFAULT_MAX_CONNECTIONS,
        help="connections handled at once; at the limit the oldest one still sending "
        f"its request is closed (default {DEFAULT_MAX_CONNECTIONS})",
    )
    serve.set_defaults(run=_serve)


def _add_register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register = commands.add_parser(
        "register",
        help="create a Fivetran webhook pointing at a receiver",
        description=(
            f"Reads {API_KEY_ENV}, {API_SECRET_ENV} and {SECRET_ENV} (or --secret-env) "
            "from the environment."
        ),
    )
    register.add_argument("--url", required=True, help="public https URL of the receiver")
    register.add_argument("--group-id", help="create a group webhook instead of an account one")
    register.add_argument("--events", default=",".join(DEFAULT_EVENTS))
    register.add_argument("--api-url", default=DEFAULT_API_URL)
    register.add_argument("--test", action="store_true", help="then ask for a test delivery")
    register.add_argument(
        "--secret-env",
        default=SECRET_ENV,
        help=f"environment variable holding the webhook secret (default {SECRET_ENV})",
    )
    register.set_defaults(run=_register)


def _add_send_test(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = commands.add_parser(
        "send-test",
        help="POST a sample delivery, signed like Fivetran's",
        description=f"Signs with ${SECRET_ENV} (or --secret-env) when it is set.",
    )
    send.add_argument("--url", default="http://127.0.0.1:8787/webhook")
    send.add_argument("--event", default="sync_end")
    send.add_argument("--secret-env", default=None)
    send.add_argument("--timeout", type=float, default=10.0)
    send.set_defaults(run=_send_test)


def _serve(args: argparse.Namespace) -> int:
    secret = _webhook_secret(args.secret_env)
    variable = args.secret_env or SECRET_ENV
    if secret is None and not args.insecure_no_signature:
        raise CliError(
            f"no webhook secret: set {variable} (or name another variable with --secret-env); "
            "to accept unsigned deliveries for local testing, pass --insecure-no-signature"
        )
    if secret is not None and args.insecure_no_signature:
        raise CliError(
            f"--insecure-no-signature was given but {variable} holds a secret; use one or the other"
        )
    _check_secret_length(variable, secret)
    config = ReceiverConfig(
        host=args.host,
        port=args.port,
        path=args.path,
        max_body_bytes=args.max_body_bytes,
        secret=secret,
        insecure_no_signature=args.insecure_no_signature,
        request_timeout_s=args.request_timeout,
        max_connections=args.max_connections,
    )
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        LOG.info("received %s; finishing requests in flight", signal.Signals(signum).name)
        stop.set()

    try:
        inbox = Inbox(args.inbox)
    except InboxError as exc:
        raise CliError(f"--inbox: {exc}") from None
    with inbox:
        try:
            server = WebhookServer(config, inbox)
        except OSError as exc:
            raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _on_signal)
        LOG.info(
            "listening on %s (inbox %s, id %s; at most %d connections, %g s per request)",
            server.url,
            inbox.path,
            inbox.inbox_id,
            config.max_connections,
            config.request_timeout_s,
        )
        serve_until(server, stop)
    LOG.info("stopped")
    return 0


def _register(args: argparse.Namespace) -> int:
    url = check_url(args.url, what="--url")
    events = parse_events(args.events)
    env = _require_env(API_KEY_ENV, API_SECRET_ENV, args.secret_env)
    key, api_secret, secret = env[API_KEY_ENV], env[API_SECRET_ENV], env[args.secret_env]
    use_secrets((key, api_secret, secret), basic_pairs=[(key, api_secret)])
    _check_secret_length(args.secret_env, secret.encode("utf-8"))
    admin = WebhookAdmin(
        Credentials(api_key=key, api_secret=api_secret),
        api_url=args.api_url,
    )
    webhook = admin.create(url=url, events=events, secret=secret, group_id=args.group_id)
    scope = "account" if args.group_id is None else f"group {args.group_id}"
    _say(f"created {scope} webhook {webhook['id']} for {url} (events: {','.join(events)})")
    if not args.test:
        return 0
    report = admin.test(webhook["id"])
    succeeded = report.get("succeed") is True
    _say(
        scrub_auth_tokens(
            f"test delivery: succeed={str(succeeded).lower()} "
            f"status={report.get('status')} message={report.get('message')!r}"
        )
    )
    return 0 if succeeded else 1


def _send_test(args: argparse.Namespace) -> int:
    secret = _webhook_secret(args.secret_env)
    if secret is None:
        _say(f"warning: {SECRET_ENV} is not set; sending unsigned", error=True)
    else:
        use_secrets([secret.decode("utf-8", "replace")])
    body = encode_payload(sample_payload(args.event))
    try:
        delivery = post_delivery(args.url, body, secret=secret, timeout_s=args.timeout)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except (OSError, http.client.HTTPException) as exc:
        _say(f"error: no answer from {args.url}: {exc.__class__.__name__}", error=True)
        return 1
    _say(f"HTTP {delivery.status} {delivery.body.decode('utf-8', 'replace').strip()}")
    return 0 if delivery.ok else 1


def _webhook_secret(env_name: str | None) -> bytes | None:
    """Read the webhook secret; a variable named explicitly must be set."""
    value = os.environ.get(env_name or SECRET_ENV, "")
    if value:
        return value.encode("utf-8")
    if env_name is not None:
        raise CliError(f"--secret-env names {env_name}, which is not set or empty")
    return None


def _check_secret_length(variable: str, secret: bytes | None) -> None:
    problem = None if secret is None else secret_problem(secret)
    if problem is not None:
        raise CliError(f"{variable}: the webhook secret {problem}")


def _require_env(*names: str) -> dict[str, str]:
    values = {name: os.environ.get(name, "") for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise CliError(f"missing environment variable(s): {', '.join(missing)}")
    return values


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0..65535")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _url_path(text: str) -> str:
    if not text.startswith("/") or text == "/healthz":
        raise argparse.ArgumentTypeError("must start with / and not be /healthz")
    return text
