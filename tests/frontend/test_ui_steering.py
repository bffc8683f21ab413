"""Steering "For you" in real Chromium through nginx -> gateway -> `bentoml serve`: tag chips
and "Not for me" with undo."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.frontend.test_ui import api, pick_listener, recommendation_ids

pytestmark = pytest.mark.slow
LISTENER = "u00011"  # no other browser test changes this listener


def card_tags(page: Page) -> list[set[str]]:
    return page.locator(".recs .card").evaluate_all(
        "cards => cards.map(c => [...c.querySelectorAll('.chips .chip')]"
        ".map(a => a.textContent.replace(/^#/, '')))")


def test_tag_chips_filter_the_picks(page: Page, base_url, screenshots_dir):
    page.goto("/")
    pick_listener(page, base_url, LISTENER)
    unfiltered = recommendation_ids(page)
    chips = page.get_by_role("group", name="Only picks tagged").get_by_role("button")
    expect(chips.first).to_be_visible()
    tag = chips.first.inner_text().lstrip("#")
    chips.first.click()
    expect(chips.first).to_have_attribute("aria-pressed", "true")
    expected = api(base_url, f"/api/users/{LISTENER}/recommendations?k=12&tags={tag}")
    expected_ids = [item["playlist_id"] for item in expected["items"]]
    assert expected_ids and expected_ids != unfiltered
    expect(page.locator(".recs .card")).to_have_count(len(expected_ids))
    assert recommendation_ids(page) == expected_ids
    assert all(tag in tags for tags in card_tags(page))
    page.screenshot(path=screenshots_dir / "desktop-tag-chips.png", full_page=True)
    chips.first.click()  # pressed again: the filter is off
    expect(chips.first).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".recs .card")).to_have_count(12)
    assert recommendation_ids(page) == unfiltered


def test_not_for_me_hides_at_once_and_undo_brings_it_back(page: Page, base_url):
    page.goto("/")
    pick_listener(page, base_url, LISTENER)
    before = recommendation_ids(page)
    hidden = before[0]
    card = page.locator(f'.recs .card[data-playlist-id="{hidden}"]')
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name=f"Not for me: hide {name}").click()
    expect(card).to_have_count(0)
    expect(page.locator(".hidden-note")).to_contain_text(f"Hidden “{name}”")
    expect(page.locator(".recs .card")).to_have_count(12)  # refilled
    assert hidden not in recommendation_ids(page)
    assert hidden not in [i["playlist_id"] for i in
                          api(base_url, f"/api/users/{LISTENER}/recommendations?k=12")["items"]]

    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".hidden-note")).to_contain_text(f"“{name}” is back.")
    expect(page.locator(f'.recs .card[data-playlist-id="{hidden}"]')).to_have_count(1)
    assert recommendation_ids(page) == before


def test_model_page_plots_the_live_feedback_rate(page: Page, base_url, screenshots_dir):
    page.goto("/")
    pick_listener(page, base_url, "u00012")
    shown = recommendation_ids(page)
    card = page.locator(f'.recs .card[data-playlist-id="{shown[0]}"]')
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name=f"Like {name}", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"Liked “{name}”")).to_be_visible()

    deadline = time.monotonic() + 10  # the gateway writes impressions every 500 ms
    while not any(row["liked"] for row in api(base_url, "/api/metrics/online")["by_day"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page.get_by_role("link", name="Model").first.click()
    chart = page.get_by_role("img", name=re.compile("Positive-feedback rate per day"))
    expect(chart).to_be_visible()
    online = api(base_url, "/api/metrics/online")
    assert any(row["liked"] >= 1 for row in online["by_day"])
    rows = page.get_by_role("table", name="Positive-feedback rate per day").locator("tbody tr")
    expect(rows).to_have_count(len(online["by_day"]))
    expect(chart.locator("circle")).to_have_count(len(online["by_day"]))
    champion = page.locator('.online-arms tr[data-arm="champion"]')
    expect(champion).to_contain_text("%")
    page.screenshot(path=screenshots_dir / "desktop-model-online.png", full_page=True)
