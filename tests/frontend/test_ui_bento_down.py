"""The recommender stops while a listener is using the UI: it says so, browsing keeps working.

A chain of its own (its own `bentoml serve`), so stopping the Bento leaves the shared one alone.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.frontend.conftest import start_chain
from devtools.nginx_proc import start_nginx
from tests.frontend.test_ui import pick_listener, recommendation_ids
from devtools.procs import bentoml_serve, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def doomed_chain(bento_home, ui_data_dir, tmp_path_factory, logs_dir):
    """bento -> gateway -> nginx, where the test may stop the bento."""
    port = free_port()
    bento = bentoml_serve(bento_home, port, logs_dir / f"bento-doomed-{port}.log")
    try:
        chain = start_chain(bento.url, ui_data_dir, tmp_path_factory.mktemp("doomed"), logs_dir)
    except BaseException:
        bento.stop()
        raise
    yield bento, chain
    chain.stop()
    bento.stop()


def test_bento_stopped_shows_error_state_and_browsing_still_works(page: Page, doomed_chain,
                                                                  screenshots_dir):
    bento, chain = doomed_chain
    page.goto(chain.url + "/")
    pick_listener(page, chain.url, "u00006")
    assert len(recommendation_ids(page)) == 12

    bento.stop()
    page.reload()  # the listener comes back from localStorage; the status bar re-checks
    status = page.get_by_role("list", name="System status")
    expect(status.locator("[data-service=Recommender]")).to_contain_text("down")
    expect(status.locator("[data-service=Gateway]")).to_contain_text("up")
    expect(page.locator("#offline-banner")).to_contain_text("The recommender is offline")
    expect(page.get_by_role("alert").filter(has_text="The recommender is offline")).to_contain_text(
        "Browsing, search and likes still work")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.locator("section:has(h2:text('Your liked')) .card").first).to_be_visible()
    page.screenshot(path=screenshots_dir / "desktop-bento-down.png", full_page=True)

    page.get_by_role("link", name="Browse", exact=True).click()
    page.get_by_label("Search playlists").fill("jazz")
    expect(page.locator("#browse-summary")).to_contain_text("matching “jazz”")
    card = page.locator(".grid .card").first
    name = card.locator("h3").inner_text()
    liked = card.locator(".like").get_attribute("aria-pressed") == "true"
    card.locator(".like").click()  # likes are the gateway's: they still save
    expect(card.locator(".like")).to_have_attribute("aria-pressed", str(not liked).lower())

    card.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("alert")).to_contain_text("The recommender is offline")
    page.get_by_role("link", name="Model", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("The recommender is offline")


def test_gateway_unreachable_is_reported(page: Page, tmp_path):
    """nginx up, gateway gone: the SPA still loads and says what is wrong."""
    nginx = start_nginx(f"http://127.0.0.1:{free_port()}", free_port(), tmp_path / "nginx.log")
    try:
        page.goto(nginx.url + "/browse")
        status = page.get_by_role("list", name="System status")
        expect(status.locator("[data-service=Gateway]")).to_contain_text("down")
        expect(page.locator("#offline-banner")).to_contain_text("Cannot reach the gateway")
        expect(page.get_by_role("alert").filter(has_text="Could not load the catalogue")) \
            .to_contain_text("The gateway is not answering")
    finally:
        nginx.stop()
