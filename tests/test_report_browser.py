"""The study report renders in headless Chromium with every image decoded (no missing images)."""

import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHECK = """<script>window.onload=()=>{
const bad=[...document.images].filter(i=>!i.complete||i.naturalWidth==0);
document.title='images:'+document.images.length+' broken:'+bad.length;}</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_report_renders_in_chromium_without_missing_images(tiny_spec, tmp_path):
    from feint.studies.study import StudyRunner

    out = tmp_path / "study"
    StudyRunner(tiny_spec, out, tmp_path / "cache", progress=False).run()
    page = (out / "report.html").read_text().replace("</body>", CHECK + "</body>")
    probe = out / "probe.html"
    probe.write_text(page)
    dom = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    title = dom.split("<title>")[1].split("</title>")[0]
    n_images = int(title.split("images:")[1].split()[0])
    assert n_images >= 6 and title.endswith("broken:0"), title
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 50_000
