"""A stranger's own data in the README's minimal format (`user_id,playlist_id`, nothing else)
through everything that takes a data directory: `make run DATA=dir` (its launcher trains on it,
the gateway imports it, the web UI shows it and a listener from the file gets personal picks),
and the gateway's database exported into `bento.retrain`, twice (the second run has a champion
whose data carried no times)."""
from __future__ import annotations

import json
import signal

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devtools.procs import prepare_database, run_local
from tests.conftest import run_module
from tests.frontend.test_ui import SHOWN_PICKS
from tests.shapes import write_shape

pytestmark = pytest.mark.slow  # trains, and starts the Bento and the gateway


@pytest.fixture
def two_columns(tmp_path):
    return write_shape("two columns", tmp_path / "my-data")


def test_make_run_on_two_columns_serves_and_shows_the_data(
        two_columns, tmp_path, browser: Browser):
    log_path = tmp_path / "run_local.log"
    launcher, _ = run_local(two_columns, log_path, env={
        "BENTOML_HOME": str(tmp_path / "empty-store"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"})
    gateway = launcher.url
    try:
        assert f"training on {two_columns}" in log_path.read_text()
        listed = httpx.get(f"{gateway}/api/playlists?limit=100", timeout=10).json()
        names = {item["id"]: item["name"] for item in listed["items"]}
        assert len(names) == 40 and names["p7"] == "p7"  # without playlists.csv, names are ids
        picks = httpx.get(f"{gateway}/api/users/u0/recommendations?k=5", timeout=10).json()
        assert picks["strategy"] == "personalized" and len(picks["items"]) == 5

        # Its own context: pytest-playwright's `page` would cache a session-wide context
        # configuration without the web UI tests' base_url (a CI run's 12 failures).
        context = browser.new_context()
        page = context.new_page()
        page.goto(gateway + "/")
        page.get_by_label("Find a listener").fill("u0")
        page.locator('#listener-select option[value="u0"]').wait_for(state="attached")
        page.get_by_label("Listener", exact=True).select_option("u0")
        expect(page.get_by_role("heading", level=1)).to_have_text("Hi, u0")
        shown = page.wait_for_function(SHOWN_PICKS, timeout=10_000).json_value()
        assert shown and set(shown) <= set(names)
        context.close()
    finally:
        returncode = launcher.stop(signal.SIGINT, timeout=60)
    assert returncode == 0, log_path.read_text()[-3000:]


def test_two_columns_through_the_database_into_retrain_twice(two_columns, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    prepare_database(database_url, two_columns)
    env = {"BENTOML_HOME": str(tmp_path / "store")}
    decisions = []
    for night in ("first", "second"):
        report = tmp_path / f"{night}.json"
        result = run_module("bento.retrain", "--database-url", database_url, "--report",
                            str(report), "--work-dir", str(tmp_path / night), env=env,
                            check=False)
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        decisions.append((result.returncode, json.loads(report.read_text())["decision"]))
    # No champion: the first is promoted. The second has a champion whose data carried no time,
    # so nothing is "fresh" to judge it on: an honest rejection, not a crash.
    assert decisions[0] == (0, "promoted"), decisions
    assert decisions[1][0] in (0, 3) and decisions[1][1] in ("promoted", "rejected"), decisions
