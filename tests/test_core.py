"""The SDK's standard tap tests, offline against the requests-mock fixture account."""

from __future__ import annotations

import pytest
import requests_mock
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures

# Streams whose data the fixture account does not provide through these mocks are
# registered by their own test modules; the standard suite covers what is mocked here.
_BASE = get_tap_test_class(
    TapFivetranMeta,
    config=api_fixtures.CONFIG,
    parse_env_config=False,
    suite_config=SuiteConfig(
        max_records_limit=100,
        ignore_no_records_for_streams=[
            s.name for s in STREAM_TYPES if s.name not in api_fixtures.EXPECTED_COUNTS
        ],
    ),
)


class TestTapFivetranMeta(_BASE):  # type: ignore[misc,valid-type]
    """Standard SDK tests with the fixture account mocked for the whole class."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _api(cls) -> requests_mock.Mocker:
        with requests_mock.Mocker() as mocker:
            api_fixtures.register(mocker)
            yield mocker
