"""The SDK's standard tap tests, offline against the requests-mock fixture account.

Every stream returns records here (schema config, sync history and a webhook inbox are
part of the fixture; a state whose schema fingerprint of the fixture connection is empty
makes ``schema_changes`` report its tables as added), so no standard test is skipped
for lack of data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import requests_mock
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures

_INBOX = api_fixtures.make_webhook_inbox(Path(tempfile.mkdtemp()) / "inbox.sqlite")

_BASE = get_tap_test_class(
    TapFivetranMeta,
    config={**api_fixtures.CONFIG, "webhook_inbox_path": _INBOX},
    parse_env_config=False,
    state={
        "bookmarks": {
            "schema_changes": {
                "partitions": [
                    {
                        "context": {"connection_id": "speak_inexpensive"},
                        "replication_key": "observed_at",
                        "replication_key_value": "2026-11-01T00:00:00.000000Z",
                        "tables": "",
                        "columns": "",
                    }
                ]
            }
        }
    },
    suite_config=SuiteConfig(max_records_limit=100),
)


class TestTapFivetranMeta(_BASE):  # type: ignore[misc,valid-type]
    """Standard SDK tests with the fixture account mocked for the whole class."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _api(cls) -> requests_mock.Mocker:
        with requests_mock.Mocker() as mocker:
            api_fixtures.register(mocker)
            api_fixtures.register_per_connection_data(mocker)
            yield mocker
