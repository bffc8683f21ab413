"""What a listener does, in real Chromium, through nginx -> gateway -> `bentoml serve`."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from gateway.retrain_report import record
from gateway.tables import retrain_reports

from tests.frontend.conftest import HOSTILE_DESCRIPTION, HOSTILE_FANS, HOSTILE_ID, HOSTILE_NAME

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


def api(base_url: str, path: str) -> dict:
    response = httpx.get(base_url + path, timeout=10)
    response.raise_for_status()
    return response.json()


def pick_listener(page: Page, base_url: str, user_id: str) -> dict:
    """Find a listener by name in the picker and choose them, as a person would."""
    user = api(base_url, f"/api/users/{user_id}")
    page.get_by_label("Find a listener").fill(user["name"])
    page.locator(f'#listener-select option[value="{user_id}"]').wait_for(state="attached")
    page.get_by_label("Listener", exact=True).select_option(user_id)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hi, {user['name']}")
    return user


# The drawn picks' ids, read in the same step that sees them drawn: picking the listener the page
# already shows renders the view again, and reading after two separate waits could land on the
# new view's loading state (a CI run read [] that way).
SHOWN_PICKS = """() => {
  const recs = document.querySelector('.recs');
  if (!recs || recs.getAttribute('aria-busy') === 'true') return null;
  const ids = [...recs.querySelectorAll('.card')].map((card) => card.dataset.playlistId);
  return ids.length ? ids : null;
}"""


def recommendation_ids(page: Page) -> list[str]:
    return page.wait_for_function(SHOWN_PICKS, timeout=10_000).json_value()


def test_pick_listener_and_see_recommendations(page: Page, base_url, screenshots_dir):
    page.goto("/")
    expect(page.get_by_role("heading", name="Find playlists you will love")).to_be_visible()
    expect(page.locator("[data-service=Model]")).to_be_visible()
    expect(page.locator("#listener-select option").nth(1)).to_be_attached()
    page.screenshot(path=screenshots_dir / "desktop-welcome.png")
    user = pick_listener(page, base_url, "u00002")

    expect(page.get_by_role("heading", name="Picked for you")).to_be_visible()
    cards = page.locator(".recs .card")
    expect(cards).to_have_count(12)
    first = cards.first
    expect(first.get_by_role("meter", name="Match score")).to_be_visible()
    expect(first.locator(".because")).to_contain_text("Because you liked")
    assert float(first.locator(".score-value").inner_text()) > 0
    expected = api(base_url, "/api/users/u00002/recommendations?k=12")
    assert recommendation_ids(page) == [item["playlist_id"] for item in expected["items"]]

    likes = api(base_url, "/api/users/u00002/likes")
    expect(page.get_by_role("heading", name=f"Your liked playlists ({likes['total']})")) \
        .to_be_visible()
    expect(page.locator("section:has(h2:text('Your liked')) .card")).to_have_count(
        len(likes["items"]))
    expect(page.locator(".card .like[aria-pressed='true']").first).to_be_visible()
    assert user["like_count"] == likes["total"]
    page.screenshot(path=screenshots_dir / "desktop-for-you.png", full_page=True)


def test_like_and_unlike_refresh_recommendations(page: Page, base_url):
    page.goto("/")
    pick_listener(page, base_url, "u00003")
    before = recommendation_ids(page)

    liked_id = before[0]
    liked_name = page.locator(f'.recs .card[data-playlist-id="{liked_id}"] h3').inner_text()
    page.get_by_role("button", name=f"Like {liked_name}", exact=True).first.click()
    expect(page.get_by_role("status").filter(has_text=f"Liked “{liked_name}”")).to_be_visible()
    expect(page.locator(f'.recs .card[data-playlist-id="{liked_id}"]')).to_have_count(0)
    after = recommendation_ids(page)
    assert after != before and liked_id not in after
    expect(page.locator(".recs .card.is-fresh").first).to_be_visible()
    expect(page.locator(".recs .badge-new").first).to_have_text("New")
    liked_card = page.locator(f'section:has(h2:text("Your liked")) '
                              f'.card[data-playlist-id="{liked_id}"]')
    expect(liked_card).to_be_visible()
    assert liked_id in [p["id"] for p in api(base_url, "/api/users/u00003/likes")["items"]]

    liked_card.get_by_role("button", name=f"Unlike {liked_name}").click()
    expect(liked_card).to_have_count(0)
    expect(page.locator(f'.recs .card[data-playlist-id="{liked_id}"]')).to_have_count(1)
    assert recommendation_ids(page) != after
    assert liked_id not in [p["id"] for p in api(base_url, "/api/users/u00003/likes")["items"]]


def test_new_listener_likes_one_playlist_and_gets_personal_results(page: Page, base_url,
                                                                   screenshots_dir):
    page.goto("/")
    page.get_by_role("button", name="Start as a new listener").click()
    expect(page.get_by_label("Your name")).to_be_focused()
    page.get_by_label("Your name").fill("Robin Browser")
    page.get_by_role("button", name="Start listening").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, Robin Browser")
    expect(page.get_by_role("heading", name="Popular right now")).to_be_visible()
    expect(page.get_by_text("No likes yet")).to_be_visible()
    popular = recommendation_ids(page)
    page.screenshot(path=screenshots_dir / "desktop-new-listener.png", full_page=True)

    page.get_by_role("link", name="Browse", exact=True).click()
    expect(page.get_by_role("heading", name="Browse the catalogue")).to_be_visible()
    card = page.locator(".grid .card").nth(3)
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name=f"Like {name}").click()
    expect(card.get_by_role("button", name=f"Unlike {name}")).to_have_attribute(
        "aria-pressed", "true")

    page.get_by_role("link", name="For you").click()
    expect(page.get_by_role("heading", name="Picked for you")).to_be_visible()
    personal = recommendation_ids(page)
    assert personal != popular
    expect(page.locator(".recs .because").first).to_have_text(f"Because you liked {name}")
    user_id = page.get_by_label("Listener", exact=True).input_value()
    answer = api(base_url, f"/api/users/{user_id}/recommendations?k=12")
    assert answer["strategy"] == "personalized"
    assert personal == [item["playlist_id"] for item in answer["items"]]


def test_search_tag_filter_and_paging(page: Page, base_url, screenshots_dir):
    total = api(base_url, "/api/playlists?limit=1")["total"]
    pages = -(-total // 12)
    page.goto("/browse")
    summary = page.locator("#browse-summary")
    expect(summary).to_contain_text(f"1–12 of {total} playlists")
    expect(page.get_by_text(f"Page 1 of {pages}")).to_be_visible()
    first_page = page.locator(".grid .card h3").all_inner_texts()
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_text(f"Page 2 of {pages}")).to_be_visible()
    expect(summary).to_contain_text(f"13–24 of {total}")
    assert page.locator(".grid .card h3").all_inner_texts() != first_page

    page.get_by_label("Search playlists").fill("jazz")
    expect(summary).to_contain_text("matching “jazz”")
    titles = page.locator(".grid .card").all_inner_texts()
    assert titles and all("jazz" in text.lower() for text in titles)
    jazz_total = api(base_url, "/api/playlists?q=jazz")["total"]
    expect(summary).to_contain_text(f"of {jazz_total} playlists")

    page.get_by_role("group", name="Filter by tag").get_by_role(
        "button", name=re.compile(r"^#focus")).click()
    expect(summary).to_contain_text("tagged #focus")
    expect(page).to_have_url(re.compile(r"/browse\?q=jazz&tag=focus$"))
    both = api(base_url, "/api/playlists?q=jazz&tag=focus")
    expect(page.locator(".grid .card")).to_have_count(both["total"])
    for card in page.locator(".grid .card").all():
        expect(card.get_by_role("link", name="#focus")).to_be_visible()
    page.screenshot(path=screenshots_dir / "desktop-browse-filtered.png", full_page=True)

    page.reload()  # nginx serves index.html for the client route; the URL keeps the filters
    expect(page.get_by_label("Search playlists")).to_have_value("jazz")
    expect(page.locator(".grid .card")).to_have_count(both["total"])
    page.get_by_role("button", name="All", exact=True).click()
    page.get_by_label("Search playlists").fill("no such playlist anywhere")
    expect(page.get_by_text("No playlists found")).to_be_visible()


def test_playlist_page_shows_similar_playlists(page: Page, base_url, screenshots_dir):
    page.goto("/browse")
    card = page.locator(".grid .card").first
    name = card.locator("h3").inner_text()
    playlist_id = card.get_attribute("data-playlist-id")
    card.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(f"/playlist/{playlist_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("heading", name="Similar playlists")).to_be_visible()
    similar = page.locator(".grid .card")
    expect(similar).to_have_count(8)
    ids = similar.evaluate_all("cards => cards.map(c => c.dataset.playlistId)")
    assert playlist_id not in ids
    expected = api(base_url, f"/api/playlists/{playlist_id}/similar?k=8")
    assert ids == [item["playlist_id"] for item in expected["items"]]
    expect(similar.first.get_by_role("meter", name="Match score")).to_be_visible()
    page.screenshot(path=screenshots_dir / "desktop-playlist.png", full_page=True)

    similar.nth(1).locator("h3 a").click()  # from one playlist to the next
    expect(page).to_have_url(re.compile(f"/playlist/{ids[1]}$"))
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.goto("/playlist/no-such-playlist")
    expect(page.get_by_role("heading", name="Playlist not found")).to_be_visible()


# Percent-encoding that is not UTF-8. nginx answers its own 400 for a truncated escape
# (%E0%A4%A), the gateway serving the SPA itself (`make run`) hands it to the app.
MALFORMED_LINKS = ["/playlist/%E0%A4", "/playlist/%ED%A0%80", "/playlist/%C3%28",
                   "/playlist/abc%FF"]


def assert_not_found(page: Page, url: str) -> None:
    """The page says not found (the page fixture fails on any uncaught error: a blank page)."""
    page.goto(url)
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your recommendations")).to_be_visible()


@pytest.mark.parametrize("path", MALFORMED_LINKS)
def test_a_malformed_link_shows_not_found(page: Page, path):
    assert_not_found(page, path)


@pytest.mark.parametrize("path", ["/playlist/%E0%A4%A", *MALFORMED_LINKS])
def test_a_malformed_link_shows_not_found_from_the_gateway(page: Page, spa_gateway, path):
    assert_not_found(page, spa_gateway.url + path)


def test_status_bar_and_model_panel(page: Page, base_url, screenshots_dir):
    info = api(base_url, "/api/model")
    page.goto("/model")
    status = page.get_by_role("list", name="System status")
    expect(status.locator("[data-service=Gateway]")).to_contain_text("up")
    expect(status.locator("[data-service=Recommender]")).to_contain_text("up")
    expect(status.locator("[data-service=Model]")).to_contain_text(info["tag"])
    expect(page.locator(".model-algorithm")).to_have_text(info["algorithm"])
    tiles = page.get_by_role("list", name="Evaluation metrics")
    for metric in info["metrics"]:
        expect(tiles).to_contain_text(metric)
    expect(page.locator(".tile-lift").first).to_contain_text("vs baseline")
    expect(page.locator(".model-trained")).to_have_text(
        re.compile(r"\d{4}, \d\d:\d\d \((just now|\d+ (min|h|days) ago)\)"))
    expect(page.get_by_role("link", name="Model", exact=True)).to_have_attribute(
        "aria-current", "page")
    # No registry here: the page says where the model comes from and that no retrain is known.
    expect(page.locator(".model-version")).to_have_text("local model store (no registry)")
    expect(page.locator(".model-retrain")).to_contain_text("No retrain has been recorded yet")
    page.screenshot(path=screenshots_dir / "desktop-model.png", full_page=True)


def test_the_model_page_names_the_last_nights_verdict(page: Page, ui_chain):
    """The newest retrain_reports row, as the retrain job writes it: rejected, then failed."""
    engine = create_engine(ui_chain.database_url)
    try:
        record(engine, {"decision": "rejected", "reasons": ["recall@10 0.18 < 0.24 - 0.01"],
                        "candidate": {"registry_version": "7", "recall@10": 0.18},
                        "champion": {"registry_version": "6", "recall@10": 0.24},
                        "finished_at": "2026-12-08T03:40:00+00:00"}, 0)
        page.goto(f"{ui_chain.url}/model")
        expect(page.locator(".retrain-verdict")).to_contain_text("Rejected: version 7")
        table = page.get_by_role("table", name="Last retrain against the serving model")
        expect(table).to_contain_text("serving v6")
        expect(page.locator(".retrain-reasons")).to_contain_text("recall@10 0.18 < 0.24")
        record(engine, {"decision": "error", "error": "OperationalError: MLflow is down",
                        "finished_at": "2026-12-08T03:45:00+00:00"}, 1)
        page.reload()
        expect(page.locator(".retrain-verdict")).to_have_text(re.compile(r"^Failed, \d"))
        expect(page.locator(".retrain-reasons")).to_contain_text("MLflow is down")
        expect(page.locator(".retrain-table")).to_have_count(0)
    finally:
        with engine.begin() as conn:  # the other tests see no retrain
            conn.execute(retrain_reports.delete())
        engine.dispose()


def test_hostile_names_render_as_text(page: Page, base_url):
    page.goto("/browse")
    page.get_by_label("Search playlists").fill("onerror")
    card = page.locator(f'.card[data-playlist-id="{HOSTILE_ID}"]')
    expect(card.locator("h3")).to_have_text(HOSTILE_NAME)
    expect(card.locator(".card-desc")).to_have_text(HOSTILE_DESCRIPTION)
    expect(card.get_by_role("link", name="#<b>bold</b>")).to_be_visible()
    card.locator("h3 a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_NAME)
    expect(page).to_have_title(f"{HOSTILE_NAME} · Playlist Radio")

    page.get_by_role("link", name="For you").click()
    pick_listener(page, base_url, HOSTILE_FANS[0])  # liked list shows it; the model never saw it
    expect(page.locator(f'section:has(h2:text("Your liked")) '
                        f'.card[data-playlist-id="{HOSTILE_ID}"] h3')).to_have_text(HOSTILE_NAME)
    page.get_by_role("button", name="+ New listener").click()
    page.get_by_label("Your name").fill("<b>Mallory</b><script>alert(2)</script>")
    page.get_by_role("button", name="Start listening").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hi, <b>Mallory</b><script>alert(2)</script>")
    assert page.locator("img[src='x'], #main script, #main b").count() == 0
    # the page fixture also fails this test if any alert() dialog opened


def test_keyboard_only_path_to_recommendations(page: Page, base_url):
    user = api(base_url, "/api/users/u00004")
    page.goto("/")
    for _ in range(10):  # skip link, brand, three nav links, then the listener search
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "listener-search":
            break
    assert page.evaluate("document.activeElement.id") == "listener-search"
    page.keyboard.type(user["name"])
    page.locator('#listener-select option[value="u00004"]').wait_for(state="attached")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "listener-select"
    for _ in range(60):
        if page.get_by_label("Listener", exact=True).input_value() == "u00004":
            break
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hi, {user['name']}")
    first_id = recommendation_ids(page)[0]

    # Tab on to the first recommendation's title link, open it with Enter, like it with Space.
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('.recs .card')?.dataset"
                                ".playlistId + ':' + document.activeElement.tagName")
        if focused == f"{first_id}:A":
            break
    assert focused == f"{first_id}:A"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/playlist/{first_id}$"))
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.likeId") == first_id:
            break
    page.keyboard.press("Space")
    expect(page.locator(f'.detail [data-like-id="{first_id}"]')).to_have_attribute(
        "aria-pressed", "true")
    assert first_id in [p["id"] for p in api(base_url, "/api/users/u00004/likes")["items"]]


def test_phone_layout(browser, base_url, screenshots_dir):
    context = browser.new_context(viewport=PHONE, base_url=base_url, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto("/")
        pick_listener(page, base_url, "u00005")
        recommendation_ids(page)
        no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(no_sideways_scroll)
        page.screenshot(path=screenshots_dir / "phone-for-you.png")
        page.goto("/browse")
        expect(page.locator(".grid .card").first).to_be_visible()
        assert page.evaluate(no_sideways_scroll)
        page.screenshot(path=screenshots_dir / "phone-browse.png")
        page.locator(".grid .card h3 a").first.click()
        expect(page.get_by_role("heading", name="Similar playlists")).to_be_visible()
        assert page.evaluate(no_sideways_scroll)
        page.screenshot(path=screenshots_dir / "phone-playlist.png")
        page.goto("/model")
        expect(page.locator(".tile").first).to_be_visible()
        page.screenshot(path=screenshots_dir / "phone-model.png")
    finally:
        context.close()
