"""A vanished object is reported under the stream that needed it, as one object.

A destination whose detail answers 404 while lineage asks for its database is the
lineage's missing detail (its rows are written without the database), not a skipped
parent of ``destinations``; a transformation project deleted between the list and its
detail is one vanished project, never "not available to this API key or plan".
"""

from __future__ import annotations

import logging

import pytest
import requests_mock

from api_fixtures import API, CONFIG, PROJECTS, ok, project_detail
from tap_runner import catalog_selecting, run_tap

NOT_FOUND_DESTINATION = {
    "code": "NotFound_Destination",
    "message": "Destination with id 'x' does not exist.",
}


def messages(caplog: pytest.LogCaptureFixture, stream: str) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if f"'{stream}'" in r.getMessage()]


def test_destination_gone_for_lineage_is_reported_under_table_lineage(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(
        f"{API}/connections/speak_inexpensive/schemas",
        json=ok({"schemas": {"s": {"enabled": True, "tables": {"t": {"enabled": True}}}}}),
    )
    api.get(
        f"{API}/destinations/schoolmaster_heedless", status_code=404, json=NOT_FOUND_DESTINATION
    )
    api.get(f"{API}/destinations/projected_sickle", status_code=404, json=NOT_FOUND_DESTINATION)
    with caplog.at_level(logging.INFO):
        run = run_tap(CONFIG, catalog=catalog_selecting({"table_lineage", "destinations"}))
    assert run.count("table_lineage") == 1
    assert run.records["table_lineage"][0]["destination_database"] is None
    assert run.count("destinations") == 2  # every destination still emitted, from the list
    lineage = [text for _, text in messages(caplog, "table_lineage")]
    assert any(
        "destination details could not be read (NotFound_Destination=" in text for text in lineage
    ), lineage
    for level, text in messages(caplog, "destinations"):
        assert "skipped parents" not in text, text
        assert level < logging.WARNING, text


def test_destination_gone_for_its_own_row_is_counted_by_destinations(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"{API}/destinations/projected_sickle", status_code=404, json=NOT_FOUND_DESTINATION)
    with caplog.at_level(logging.INFO):
        run = run_tap(CONFIG, catalog=catalog_selecting({"destinations"}))
    assert run.count("destinations") == 2
    assert (
        logging.INFO,
        "Stream 'destinations': 1 destination details could not be read "
        "(NotFound_Destination=1); its rows were written without them.",
    ) in messages(caplog, "destinations")
    # (catalog_selecting's own config-less tap logs "Config validation failed": not the run)
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING
        and r.name.startswith("tap-")
        and "Config validation failed" not in r.getMessage()
    ]


def test_one_deleted_transformation_project_is_one_vanished_object(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    kept = {**PROJECTS[0], "id": "project_2"}
    api.get(
        f"{API}/transformation-projects",
        json=ok({"items": [PROJECTS[0], kept], "next_cursor": None}),
    )
    api.get(
        f"{API}/transformation-projects/project_1",
        status_code=404,
        json={"code": "NotFound", "message": "Transformation project not found."},
    )
    api.get(f"{API}/transformation-projects/project_2", json=ok(project_detail(kept)))
    with caplog.at_level(logging.INFO):
        run = run_tap(
            {**CONFIG, "emit_activate_version_messages": True},
            catalog=catalog_selecting({"transformation_projects"}),
        )
    assert [r["id"] for r in run.records["transformation_projects"]] == ["project_2"]
    texts = [text for _, text in messages(caplog, "transformation_projects")]
    assert not [t for t in texts if "not available to this API key or plan" in t], texts
    assert "Stream 'transformation_projects' skipped parents: NotFound=1" in texts


def test_the_list_itself_answering_404_is_still_a_plan_gated_stream(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(
        f"{API}/transformation-projects",
        status_code=404,
        json={"code": "NotFound", "message": "Not available on this plan."},
    )
    with caplog.at_level(logging.INFO):
        run = run_tap(CONFIG, catalog=catalog_selecting({"transformation_projects"}))
    assert run.count("transformation_projects") == 0
    texts = [text for _, text in messages(caplog, "transformation_projects")]
    assert any("not available to this API key or plan" in t for t in texts), texts
