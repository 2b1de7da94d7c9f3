"""feint ui is safe by default: it serves only image files from under the folders it was given (no `..`, no
symlink out, no absolute path a dataset names), answers only its own host name, asks for a token when bound
to another address, and changes nothing on disk outside its work folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from ui_helpers import REAL

from feint.ui.app import create_app


def _image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (200, 30, 30)).save(path)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """root/ (given to the app) with an image and a COCO dataset naming a photo outside root; outside/ with a
    secret image; a symlink in root pointing at it."""
    root = tmp_path / "root"
    inside = _image(root / "photos" / "a.png")
    secret = _image(tmp_path / "outside" / "secret.png")
    (root / "link.png").symlink_to(secret)
    (root / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    coco = {
        "images": [
            {"id": 1, "file_name": str(secret), "width": 32, "height": 24},
            {"id": 2, "file_name": str(inside), "width": 32, "height": 24},
        ],
        "annotations": [],
        "categories": [{"id": 1, "name": "ship"}],
    }
    (root / "coco").mkdir()
    (root / "coco" / "annotations.json").write_text(json.dumps(coco))
    (root / "config.json").write_text("{}")
    return {"root": root, "inside": inside, "secret": secret, "work": tmp_path / "work"}


def _client(tree: dict[str, Path], **kw: object) -> TestClient:
    return TestClient(create_app([tree["root"]], workdir=tree["work"], **kw), base_url="http://127.0.0.1")


def _file(client: TestClient, path: str) -> int:
    return client.get("/file?path=" + quote(path)).status_code


def test_serves_images_under_its_folders_only(tree):
    client = _client(tree)
    root = tree["root"]
    assert _file(client, str(tree["inside"])) == 200
    assert client.get("/thumb?path=" + quote(str(tree["inside"]))).headers["content-type"] == "image/jpeg"
    for refused in (
        str(tree["secret"]),  # absolute path outside
        f"{root}/photos/../../outside/secret.png",  # traversal
        str(root / "link.png"),  # a symlink out of the folder
        str(root / "linked-folder" / "secret.png"),  # through a symlinked folder
        "photos/a.png",  # relative: no working directory to be relative to
        "/etc/passwd",
    ):
        assert _file(client, refused) == 403, refused
        assert client.get("/thumb?path=" + quote(refused)).status_code == 403, refused
    assert _file(client, str(root / "config.json")) == 404  # under the folder, but not an image


def test_a_dataset_naming_a_file_outside_cannot_make_it_served(tree):
    """The COCO dataset's first record names the secret by absolute path: the grid marks it as not shown,
    and no route the page would use for it (file, thumbnail) serves it."""
    client = _client(tree)
    coco = quote(str(tree["root"] / "coco"))
    assert client.get(f"/dataset?path={coco}").status_code == 200
    items = {
        Path(item["file"]).name: item
        for item in client.get(f"/api/dataset/images?path={coco}").json()["items"]
    }
    assert items["secret.png"]["ok"] is False and items["a.png"]["ok"] is True
    secret = quote(str(tree["secret"]))
    assert client.get(f"/file?path={secret}").status_code == 403
    assert client.get(f"/thumb?path={secret}").status_code == 403
    # the dataset itself may not lie outside either
    outside = quote(str(tree["secret"].parent))
    assert client.get(f"/dataset?path={outside}").status_code == 403
    assert client.get(f"/api/dataset/images?path={outside}").status_code == 403


def test_answers_only_its_own_host_name(tree):
    client = _client(tree)
    assert client.get("/", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    # a page on another site resolving its own name to 127.0.0.1 (DNS rebinding) is refused
    assert client.get("/", headers={"host": "attacker.example:8765"}).status_code == 403


def test_a_change_asked_for_by_another_site_is_refused(tree):
    """A page elsewhere in the user's browser can POST to 127.0.0.1: a graph saved that way would be a file
    written by a stranger. Only JSON from the app's own origin is accepted."""
    client = _client(tree)
    body = {"text": "extends: marine\n", "path": None, "name": "planted.yaml"}
    cross = [
        {"origin": "http://attacker.example"},
        {"sec-fetch-site": "cross-site"},
    ]
    for headers in cross:
        assert client.post("/api/graph/save", json=body, headers=headers).status_code == 403
    form = client.post("/api/graph/save", content=json_text(body), headers={"content-type": "text/plain"})
    assert form.status_code == 403  # what a cross-site form or no-cors fetch can send
    assert not (tree["work"] / "graphs" / "planted.yaml").exists()
    own = client.post("/api/graph/save", json=body, headers={"origin": "http://127.0.0.1"})
    assert own.status_code == 200 and (tree["work"] / "graphs" / "planted.yaml").is_file()


def json_text(body: dict[str, object]) -> str:
    return json.dumps(body)


def test_another_address_asks_for_the_token(tree):
    client = TestClient(
        create_app([tree["root"]], workdir=tree["work"], host="10.1.2.3", token="s3cret"),
        base_url="http://10.1.2.3",
    )
    assert client.get("/").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    first = client.get("/?token=s3cret")
    assert first.status_code == 200 and "feint_ui_token" in first.headers["set-cookie"]
    assert client.get("/").status_code == 200  # the cookie from then on
    assert TestClient(client.app, base_url="http://10.1.2.3").get("/file?path=/x").status_code == 401


def test_cli_binds_loopback_and_prints_a_token_for_other_addresses(tree, tmp_path):
    """`feint ui` as a user starts it: the default binds 127.0.0.1 without token; --host 0.0.0.0 prints an
    address with a token, and the server refuses requests without it."""
    import httpx

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feint",
                "ui",
                str(tree["root"]),
                "--workdir",
                str(tree["work"]),
                "--port",
                "0",
                "-q",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        return proc, line

    proc, line = start()
    try:
        url = re.search(r"http://\S+", line)
        assert url and url.group(0).startswith("http://127.0.0.1:") and "token" not in line, line
        assert _get_when_up(httpx, url.group(0)) == 200
    finally:
        proc.terminate()
        proc.wait(20)
    proc, line = start("--host", "0.0.0.0")
    try:
        url = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=(\S+)", line)
        assert url, line
        port, token = url.groups()
        bare = f"http://0.0.0.0:{port}/"
        assert _get_when_up(httpx, bare) == 401
        assert httpx.get(f"{bare}?token={token}").status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)


def _get_when_up(httpx, url: str) -> int:  # noqa: ANN001
    deadline = time.monotonic() + 60
    while True:
        try:
            return int(httpx.get(url).status_code)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"feint ui never answered at {url}"
            time.sleep(0.2)


def test_cli_refuses_a_port_in_use_in_one_line_before_printing_an_address(feint_cli, tree):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = feint_cli("ui", tree["root"], "--workdir", tree["work"], "--port", port)
    assert code == 2 and f"--port {port}: in use" in err and err.count("\n") == 1, err
    assert "http://" not in out


def test_cli_refuses_a_missing_folder_in_one_line(feint_cli, tmp_path):
    code, out, err = feint_cli("ui", tmp_path / "nope")
    assert code == 2 and err.strip().count("\n") == 0 and "no such folder" in err, err


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_browsing_every_page_changes_nothing_but_the_work_folder(ui_tree, real_data_module, tmp_path):
    """Every link reachable from the home page (two levels), followed: every file of the tree and of the
    real photos has the same bytes after, nothing new appears outside the work folder."""
    real = real_data_module / REAL
    before, before_real = _hashes(ui_tree), _hashes(real)
    work = tmp_path / "work"
    client = TestClient(create_app([ui_tree, real], workdir=work), base_url="http://127.0.0.1")
    seen: set[str] = set()
    frontier = ["/"]
    for _ in range(2):
        found: list[str] = []
        for url in frontier:
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            assert response.status_code < 500, url
            if "text/html" in response.headers.get("content-type", ""):
                found += [u.replace("&amp;", "&") for u in re.findall(r'href="(/[^"#]*)"', response.text)]
        frontier = [u for u in found if not u.startswith("/static")]
    assert len(seen) > 10
    assert _hashes(ui_tree) == before
    assert _hashes(real) == before_real
    assert not any(Path(p).is_relative_to(work) for p in before)  # the work folder lies elsewhere


if os.name != "posix":  # symlinks and signals as on Linux and macOS
    pytestmark = pytest.mark.skip("POSIX only")
