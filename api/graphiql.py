"""GraphiQL served without a CDN: the page and its vendored assets (api/static/graphiql/)."""

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/graphql/assets"


@cache
def page() -> str:
    """Strawberry's GraphiQL page, loading React, GraphiQL and the explorer from ASSETS_PATH."""
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


def asset_routes() -> list[Mount]:
    """The route that serves the page's scripts and style sheets."""
    assets = StaticFiles(directory=STATIC / "graphiql")
    return [Mount(ASSETS_PATH, app=assets, name="graphiql-assets")]
