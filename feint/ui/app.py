"""The `feint ui` application: FastAPI with Jinja2 pages and plain JavaScript, and the rules that keep it
safe on a shared machine.

- Bound to 127.0.0.1 by default; requests whose Host header is not the address it serves are refused (a web
  page elsewhere cannot reach it through DNS rebinding).
- A request that changes something (POST: a new graph file, a preview render) must come from its own pages,
  as JSON (no cross-site request forgery from a page elsewhere in the same browser).
- Bound to any other address it asks for a token (generated unless given), accepted once from `?token=` and
  then from a cookie.
- Files are served only from under the folders it was given (`Roots.check`), images only.
- It writes only in its work folder: new graph files, preview renders and the thumbnail cache.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from feint.errors import FeintError
from feint.ui import catalog
from feint.ui.roots import Roots
from feint.ui.web import checked_image, media_type, page, roots

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
TOKEN_COOKIE = "feint_ui_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def create_app(
    folders: Sequence[str | Path],
    workdir: str | Path | None = None,
    host: str = "127.0.0.1",
    token: str | None = None,
) -> FastAPI:
    """The app over `folders`. `host`: the address served (its Host header is the only one accepted);
    `token`: required from every browser unless None (the CLI makes one whenever host is not loopback)."""
    from feint.ui import datasets, embedding, graphs, runs, studies

    app = FastAPI(title="feint ui", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.roots = Roots(folders, workdir)
    app.state.jobs = {}
    hosts = {host, *LOOPBACK} if host in LOOPBACK else {host}
    app.middleware("http")(_guard(hosts, token))
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for module in (datasets, studies, runs, graphs, embedding):
        app.include_router(module.router)
    app.add_api_route("/", home, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/file", file, methods=["GET"])
    app.add_api_route("/thumb", thumb, methods=["GET"])
    app.add_api_route("/api/catalog", catalog_json, methods=["GET"])
    app.add_exception_handler(FeintError, _feint_error)
    return app


def _guard(
    hosts: set[str], token: str | None
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        name = _host_name(request.headers.get("host") or "")
        if name not in hosts:
            return PlainTextResponse(f"feint ui: host {name!r} refused", status_code=403)
        if request.method not in SAFE_METHODS and not _same_origin(request):
            return PlainTextResponse("feint ui: a change asked for by another site is refused", 403)
        if token is None:
            return await call_next(request)
        given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return PlainTextResponse("feint ui: open the address with ?token=... that feint ui printed", 401)
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    return guard


def _same_origin(request: Request) -> bool:
    """Whether a request that changes something (a new graph file, a preview render) comes from the app's
    own pages: a page on another site can send a POST to 127.0.0.1 too (cross-site request forgery), but
    its browser then says so in Origin and Sec-Fetch-Site, and cannot send a JSON body without asking."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        return False
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"


def _host_name(header: str) -> str:
    """The host of a Host header without its port ("[::1]:8000" -> "[::1]", "a:80" -> "a")."""
    if header.startswith("["):
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0]


async def _feint_error(request: Request, err: Exception) -> Response:
    return JSONResponse({"error": str(err)}, status_code=400)


def home(request: Request) -> HTMLResponse:
    """Everything found under the folders, by kind."""
    entries = catalog.scan(roots(request))
    kinds: dict[str, list[catalog.Entry]] = {}
    for entry in entries:
        kinds.setdefault(entry.kind, []).append(entry)
    return page(request, "home.html", kinds=kinds, roots=roots(request))


def file(request: Request, path: str) -> FileResponse:
    """One image file, if it lies under the app's folders."""
    real = checked_image(request, path)
    return FileResponse(real, media_type=media_type(real))


def thumb(request: Request, path: str, size: int = 192) -> FileResponse:
    """A cached JPEG thumbnail of an image under the app's folders (cached in the work folder)."""
    from feint.ui.thumbs import thumbnail

    real = checked_image(request, path)
    cached = thumbnail(real, size, roots(request).work("thumbs"))
    return FileResponse(cached, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


def catalog_json(request: Request) -> list[dict[str, str]]:
    return [
        {"kind": e.kind, "path": str(e.path), "name": e.name, "detail": e.detail}
        for e in catalog.scan(roots(request))
    ]
