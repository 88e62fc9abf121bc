"""/docs: Swagger UI from files shipped in this package, so it works with no internet access.

FastAPI's own /docs loads Swagger UI from a CDN: offline, or on a network that blocks it, a
blank page. The files in swagger_ui/ are swagger-ui-dist's, refreshed by scripts/swagger-ui
(why vendored: docs/architecture.md, "The API docs page").
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "swagger_ui"
ASSETS_PATH = "/docs/assets"


def install(api: FastAPI, docs_url: str = "/docs") -> None:
    """Serve Swagger UI at `docs_url`; build the app with `docs_url=None, redoc_url=None`."""
    assert api.openapi_url is not None, "the docs page shows the OpenAPI document"
    openapi_url = api.openapi_url
    version = (ASSETS / "VERSION").read_text().strip()
    api.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="swagger-ui")

    @api.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        assets = f"{root}{ASSETS_PATH}"
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{api.title} API",
            # ?v= makes a browser fetch the new files after scripts/swagger-ui upgrades them.
            swagger_js_url=f"{assets}/swagger-ui-bundle.js?v={version}",
            swagger_css_url=f"{assets}/swagger-ui.css?v={version}",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            # Swagger UI's validator badge loads an image from validator.swagger.io on a page not
            # served from localhost; this layout does not show it, and null keeps it off.
            swagger_ui_parameters={"validatorUrl": None},
        )
