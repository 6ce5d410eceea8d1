"""The API's documentation pages: Swagger UI at /api/v1/docs and ReDoc at /api/v1/redoc.

FastAPI's own pages load their scripts from a CDN, so they are blank on a server without the internet
(a school's intranet). Here both pages load the scripts fastapi-offline ships in its wheel, served by
this server, and forbid pictures from elsewhere (ReDoc's footer asks a CDN for a logo, and hides it
when refused): opening the docs sends no request beyond the server.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# Scripts and styles from this server, inline ones as FastAPI writes its pages, pictures from here only.
_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:")


def add_docs(app: FastAPI, prefix: str) -> None:
    """Swagger UI at `{prefix}/docs`, ReDoc at `{prefix}/redoc`, their assets under `{prefix}/docs-assets`."""
    assets = f"{prefix}/docs-assets"
    openapi_url = app.openapi_url
    if openapi_url is None:  # an app without its OpenAPI document has nothing to show
        return
    app.mount(assets, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    title = app.title

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _offline(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - Swagger UI", swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css", swagger_favicon_url=f"{assets}/favicon.png"))

    @app.get(f"{prefix}/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _offline(get_redoc_html(
            openapi_url=openapi_url, title=f"{title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False))


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = _POLICY
    return page
