"""The HTML report opens in headless Chromium with no console message and draws every plot."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthvae.evaluation import evaluate

CHROMIUM = Path("/usr/bin/chromium")
DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)


@pytest.fixture(scope="module")
def html_path(tmp_path_factory) -> Path:
    weather = pd.read_csv(DATASETS / "seattle_weather.csv")
    train, holdout = weather.iloc[:1000], weather.iloc[1000:]
    synth = train.sample(n=1000, replace=True, random_state=0).reset_index(drop=True)
    synth["wind"] = synth["wind"] * 1.3
    report = evaluate(train, synth, holdout=holdout, target="weather", seed=0)
    path = tmp_path_factory.mktemp("html") / "report.html"
    report.to_html(path)
    return path


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_html_is_self_contained(html_path):
    text = html_path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", text)
    assert "<svg" in text and "Distributions" in text


def test_html_renders_without_console_messages(html_path, tmp_path):
    run = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", html_path.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    body = re.search(r"<body([^>]*)>", run.stdout).group(1)
    plots = int(re.search(r'data-plots="(\d+)"', body).group(1))
    rendered = int(re.search(r'data-plots-rendered="(\d+)"', body).group(1))
    assert plots > 10 and rendered == plots


def test_screenshot_is_not_blank(html_path, tmp_path):
    image_module = pytest.importorskip("PIL.Image", reason="reading the screenshot needs Pillow")
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", html_path.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    with image_module.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.shape[:2] == (3000, 1200)
    assert pixels.std() > 20
    # Both plot colours are on screen: real (#1f5fa8) and synthetic (#e8731a) bars.
    for colour in ((0x1F, 0x5F, 0xA8), (0xE8, 0x73, 0x1A)):
        assert (np.abs(pixels - colour).sum(axis=2) < 30).sum() > 500
