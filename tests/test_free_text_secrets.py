"""Free-text secrets in messages and setup tests (issue 22, item 11).

``password: x``, ``{'password': 'x'}``, ``--password x``, ``token x`` and
``aws_secret_access_key x`` must lose their values wherever free text is cleaned (task
and warning messages, setup-test details, log lines); an ``api_url`` with
``user:pass@`` is not printed whole in the DNS error.
"""

from __future__ import annotations

import pytest
import requests_mock
from test_api_url_errors import TYPO_HOST, dns_failure

from tap_fivetran_meta.api.errors import UnresolvableHostError
from tap_fivetran_meta.rules.config_checks import api_url_hint
from tap_fivetran_meta.rules.redact import REDACTED, scrub_messages, scrub_text

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

PLANTED = "Pl4nted-Secret-77"


@pytest.mark.parametrize(
    "text",
    [
        f"password: {PLANTED}",
        f"Password:{PLANTED} (retry)",
        f"{{'password': '{PLANTED}', 'user': 'bob'}}",
        f"{{'password': {PLANTED}}}",
        f"ran pg_dump --password {PLANTED} --host db",
        f"ran tool --password={PLANTED}",
        f"ran tool -p-secret {PLANTED}",
        f"auth failed for token {PLANTED}",
        f"aws_secret_access_key {PLANTED}",
        f"AWS_SECRET_ACCESS_KEY={PLANTED}",
        f'client_secret: "{PLANTED}"',
        f"api_key\t{PLANTED}",
        "connect with password hunter",
        "token x",
    ],
)
def test_secret_values_in_free_text_are_redacted(text: str) -> None:
    cleaned = scrub_text(text)
    assert PLANTED not in cleaned
    assert "hunter" not in cleaned
    assert not cleaned.endswith(" x")
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "token expired, please reauthorize",
        "The password is incorrect",
        "status: ok at 12:30",
        "Error: connection refused",
        "Authorization: Basic <redacted>",
        "password rotation is due",
        "Token expired for the connection",
        "password authentication failed for user fivetran",
    ],
)
def test_ordinary_words_survive(text: str) -> None:
    assert scrub_text(text) == text


def test_task_messages_and_setup_test_details_are_cleaned() -> None:
    items = [
        {"code": "x", "message": f"Login failed: password: {PLANTED}"},
        {"title": "t", "status": "FAILED", "details": f"--password {PLANTED}"},
    ]
    assert PLANTED not in str(scrub_messages(items))


def test_the_dns_error_does_not_print_the_user_info_of_api_url(sleeps: list[float]) -> None:
    url = f"https://admin:{PLANTED}@{TYPO_HOST}/v1?token={PLANTED}"
    with requests_mock.Mocker() as mocker:
        mocker.get(requests_mock.ANY, text=dns_failure)
        with pytest.raises(UnresolvableHostError) as caught:
            run_tap({**fx.CONFIG, "api_url": url}, catalog=catalog_selecting({"account"}))
    assert PLANTED not in str(caught.value)
    assert TYPO_HOST in str(caught.value)
    assert PLANTED not in api_url_hint(url)
