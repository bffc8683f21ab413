"""The listener bar in each auth mode, in real Chromium: demo mode's labelled picker through the
shared chain; proxy mode through the edge stand-in (tests/frontend/edge_proxy.py) -> nginx for
the SPA and -> a proxy-mode gateway for /api/, as the prod Ingress routes."""
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.frontend.edge_proxy import EdgeProxy
from devtools.nginx_proc import start_nginx
from devtools.procs import free_port, prepare_database, uvicorn_gateway

pytestmark = pytest.mark.slow


def test_demo_mode_shows_the_labelled_picker_and_no_sign_out(page: Page, base_url,
                                                             screenshots_dir):
    page.goto("/")
    expect(page.locator("#demo-mode")).to_have_text("Demo mode: pick any listener")
    expect(page.get_by_label("Find a listener")).to_be_visible()
    expect(page.locator("#sign-out")).to_have_count(0)
    assert httpx.get(base_url + "/api/config").json()["auth_mode"] == "demo"
    page.screenshot(path=screenshots_dir / "desktop-demo-mode.png")


@pytest.fixture(scope="module")
def edge(bento_server, ui_data_dir, tmp_path_factory, logs_dir):
    work = tmp_path_factory.mktemp("ui-proxy")
    port = free_port()
    database_url = f"sqlite:///{work / 'gateway.db'}"
    prepare_database(database_url, ui_data_dir)
    gateway = uvicorn_gateway(port, logs_dir / f"gateway-proxy-{port}.log", env={
        "DATABASE_URL": database_url, "BENTO_URL": bento_server.url, "AUTH_MODE": "proxy",
        "AUTH_TRUSTED_PROXIES": "127.0.0.1", "AUTH_SIGN_OUT_URL": "/oauth2/sign_out"})
    nginx = edge = None
    try:
        nginx_port = free_port()
        nginx = start_nginx(gateway.url, nginx_port, logs_dir / f"nginx-proxy-{nginx_port}.log")
        edge = EdgeProxy(gateway.url, nginx.url)
        yield edge
    finally:
        for part in (edge, nginx, gateway):
            if part is not None:
                part.stop()


@pytest.fixture
def proxy_page(browser, edge):
    context = browser.new_context(base_url=edge.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not problems, problems


def sign_in(page: Page, edge: EdgeProxy, user: str, groups: str = "") -> None:
    """What oauth2-proxy's session cookie does for the edge."""
    cookies = [{"name": "edge_user", "value": user, "url": edge.url}]
    if groups:
        cookies.append({"name": "edge_groups", "value": groups, "url": edge.url})
    page.context.add_cookies(cookies)


def test_anonymous_visitor_browses_without_a_picker(proxy_page: Page):
    page = proxy_page
    page.goto("/")
    expect(page.locator("#signed-out")).to_contain_text("Not signed in")
    expect(page.locator("#listener-select")).to_have_count(0)
    expect(page.locator("#demo-mode")).to_have_count(0)
    expect(page.get_by_text("Sign in to like playlists and get picks")).to_be_visible()
    page.get_by_role("link", name="Browse the catalogue").click()
    card = page.locator(".grid .card").first
    name = card.locator("h3").inner_text()
    card.get_by_role("button", name=f"Like {name}").click()
    expect(page.get_by_role("status").filter(has_text="Sign in to like playlists.")) \
        .to_be_visible()


def test_signed_in_listener_likes_as_themselves_and_signs_out(proxy_page: Page, edge,
                                                              screenshots_dir):
    page = proxy_page
    sign_in(page, edge, "erin")
    page.goto("/")
    expect(page.locator("#signed-in")).to_have_text("Signed in as erin")
    expect(page.locator("#listener-select")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, erin")
    expect(page.get_by_role("heading", name="Popular right now")).to_be_visible()

    page.get_by_role("link", name="Browse", exact=True).click()
    card = page.locator(".grid .card").nth(2)
    name = card.locator("h3").inner_text()
    playlist_id = card.get_attribute("data-playlist-id")
    card.get_by_role("button", name=f"Like {name}").click()
    expect(card.get_by_role("button", name=f"Unlike {name}")).to_have_attribute(
        "aria-pressed", "true")
    page.get_by_role("link", name="For you").click()
    expect(page.get_by_role("heading", name="Picked for you")).to_be_visible()
    expect(page.locator(f'section:has(h2:text("Your liked")) '
                        f'.card[data-playlist-id="{playlist_id}"]')).to_be_visible()
    page.screenshot(path=screenshots_dir / "desktop-signed-in.png")

    # The like is erin's, recorded by the gateway under her subject, as the admin API shows.
    admin = {"Cookie": "edge_user=ops; edge_groups=admin"}
    likes = httpx.get(edge.url + "/api/users/erin/likes", headers=admin).json()
    assert [p["id"] for p in likes["items"]] == [playlist_id]
    assert httpx.get(edge.url + "/api/users", headers={"Cookie": "edge_user=erin"}) \
        .status_code == 403

    expect(page.locator("#sign-out")).to_have_attribute("href", "/oauth2/sign_out")
    page.locator("#sign-out").click()
    expect(page.locator("#signed-out")).to_be_visible()
    expect(page.get_by_text("Sign in to like playlists and get picks")).to_be_visible()


def test_an_admin_sees_the_admin_badge(proxy_page: Page, edge):
    sign_in(proxy_page, edge, "ops", "staff,admin")
    proxy_page.goto("/")
    expect(proxy_page.locator("#signed-in")).to_contain_text("Signed in as ops")
    expect(proxy_page.locator("#signed-in .badge")).to_have_text("admin")
