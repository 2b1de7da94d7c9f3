"""What every page module shares: the Jinja2 templates, the app's state (its folders) and the file route
helpers. Page modules import this; app.py imports the page modules (no cycle)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from feint.ui.roots import OutsideRoots, Roots

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
IMAGE_TYPES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"}


def roots(request: Request) -> Roots:
    """The app's folders (set once by `create_app`)."""
    found: Roots = request.app.state.roots
    return found


def checked(request: Request, path: str) -> Path:
    """`path` resolved under the app's folders, or 403 (outside) / 404 (absent)."""
    try:
        real = roots(request).check(path)
    except OutsideRoots as err:
        raise HTTPException(403, str(err)) from None
    if not real.exists():
        raise HTTPException(404, f"{path}: no such file")
    return real


def checked_image(request: Request, path: str) -> Path:
    """An image file under the app's folders; anything else (a config, a key) is never served."""
    real = checked(request, path)
    if not real.is_file() or real.suffix.lower() not in IMAGE_TYPES:
        raise HTTPException(404, f"{path}: not an image file")
    return real


def media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def page(request: Request, name: str, **context: Any) -> HTMLResponse:
    """A full page from templates/`name`, with the navigation's state."""
    return templates.TemplateResponse(request, name, {"active": name.split(".")[0], **context})
