"""GraphiQL as a person uses it: smsauth serves the page and every asset itself (no CDN), and in a
real headless Chromium (Debian's package, driven by Playwright) a query run with an API key in the
Headers pane shows the tenant's name."""

import base64
import contextlib
import hashlib
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.async_api import Page, async_playwright, expect

from api import graphiql
from tests.api.server_support import ROOT, Server, cli
from tests.conftest import client_for

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
TENANT = "Browser Check Ltd"
QUERY = "{ viewer { tenant { name } } }"
WAIT_MS = 30_000  # the bound of every browser step
PAGE_URL = "http://smsauth.test/graphql"
JAVASCRIPT = ("text/javascript", "application/javascript")
CONTENT_TYPES = {"script": JAVASCRIPT, "stylesheet": ("text/css",)}


class AssetRefs(HTMLParser):
    """The scripts and style sheets a page loads: (kind, URL, integrity) for each."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "script" and attr.get("src"):
            self.found.append(("script", attr["src"], attr.get("integrity")))
        elif tag == "link" and attr.get("rel") == "stylesheet" and attr.get("href"):
            self.found.append(("stylesheet", attr["href"], attr.get("integrity")))


def asset_refs(html: str, page_url: str) -> list[tuple[str, str, str | None]]:
    parser = AssetRefs()
    parser.feed(html)
    return [(kind, urljoin(page_url, url), integrity) for kind, url, integrity in parser.found]


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


# Without a browser: the page and its assets


async def test_graphiql_page_loads_every_asset_from_this_server(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    refs = asset_refs(page.text, PAGE_URL)
    assert {kind for kind, _, _ in refs} == {"script", "stylesheet"}
    for kind, url, integrity in refs:
        assert url.startswith("http://smsauth.test/graphql/assets/"), url
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[kind]), (url, asset.headers)
        assert integrity in (None, sri(asset.content)), f"{url} does not match its integrity hash"


async def test_graphiql_switched_off_serves_neither_page_nor_assets(settings):
    (_, first_asset, _), *_ = asset_refs(graphiql.page(), PAGE_URL)
    async with client_for(settings, graphiql=False) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        asset = await http.get(first_asset)
    assert page.status_code == 404 and "graphiql" not in page.text.lower()
    assert asset.status_code == 404


# In a real browser


@pytest.fixture
def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env["PYTHONPATH"] = str(ROOT)
    env["SMSAUTH_DATABASE_URL"] = "sqlite://./smsauth.db"
    return env


async def paste_into(page: Page, editor_selector: str, text: str) -> None:
    """Click into a CodeMirror editor, select all and paste ``text`` over it."""
    await page.locator(editor_selector).click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def run_viewer_query(page: Page, url: str, key: str) -> None:
    await page.goto(f"{url}/graphql")
    await paste_into(page, ".graphiql-query-editor .CodeMirror", QUERY)
    await page.get_by_role("button", name="Headers", exact=True).click()
    headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    await paste_into(page, headers_editor, json.dumps({"Authorization": f"Bearer {key}"}))
    await page.locator(".graphiql-execute-button").click()
    response = page.locator(".graphiql-response")
    await expect(response).to_contain_text(f'"name": "{TENANT}"', timeout=WAIT_MS)
    shown = await response.locator(".CodeMirror").evaluate("node => node.CodeMirror.getValue()")
    assert json.loads(shown) == {"data": {"viewer": {"tenant": {"name": TENANT}}}}
    stored = await page.evaluate("() => JSON.stringify(window.localStorage)")
    assert key not in stored, "the API key was kept in the browser's localStorage"
    assert "viewer" in stored  # what is not secret is kept: the query and its history


async def use_graphiql(url: str, key: str, screenshot: Path) -> tuple[list[str], list[str]]:
    """Runs the query in Chromium; returns the URLs the page requested and its script errors."""
    requested: list[str] = []
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            try:
                await run_viewer_query(page, url, key)
            except BaseException:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=screenshot, timeout=WAIT_MS)
                    print(f"screenshot of the failed GraphiQL session: {screenshot}")
                raise
        finally:
            await browser.close()
    return requested, errors


@pytest.mark.slow
async def test_query_run_in_graphiql_with_a_key_in_the_headers_pane_shows_the_tenant(
    server_env, tmp_path
):
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    created = cli(server_env, tmp_path, "tenant", "create", TENANT, "--json")
    key = json.loads(created.stdout)["apiKey"]
    server = Server(server_env, tmp_path)
    try:
        await server.wait_ready()
        requested, errors = await use_graphiql(server.url, key, tmp_path / "graphiql-failure.png")
    finally:
        log = server.stop()
    assert errors == []
    assert f"{server.url}/graphql" in requested
    assert [url for url in requested if not url.startswith(f"{server.url}/")] == []
    assert key not in log
