"""The console: GET / serves the browser console; its built assets are under /console/.

The files are built from clients/console (and clients/js) into studygroups/console/static and
ship inside the package, so serving them needs no node and no internet (API.md section 8).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

router = APIRouter(include_in_schema=False)

STATIC = Path(str(files("studygroups") / "console" / "static"))
ASSETS = {"console.js": "text/javascript", "console.css": "text/css", "icon.svg": "image/svg+xml"}
# Everything the page loads comes from this server; scripts and styles only from files.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # fixed names: revalidate so an upgrade is seen at once
}


@router.get("/")
async def console() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/console/config.json")
async def console_config(request: Request) -> JSONResponse:
    """What the page cannot find out without an error: whether POST /dev/token is served."""
    body = {"dev_login": bool(request.app.state.dev_sign_in)}
    return JSONResponse(body, headers=HEADERS)


@router.get("/console/{name}")
async def console_asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:  # a fixed list: no path from the request reaches the filesystem
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(STATIC / name, media_type=media_type, headers=HEADERS)
