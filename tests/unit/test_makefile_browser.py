"""`make browser` installs the emoji font on its own check, not only together with Chromium
(where Chromium was installed before, emoji rendered as empty boxes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_emoji_font_has_its_own_check() -> None:
    dry = subprocess.run(  # -n prints the recipe without running it
        ["make", "-s", "-n", "browser", "CHROMIUM=/opt/chromium", "EMOJI_FONT=/opt/emoji.ttf"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout.replace("\\\n", " ").splitlines()
    [chromium] = [c for c in commands if "test -x /opt/chromium" in c]
    [font] = [c for c in commands if "test -f /opt/emoji.ttf" in c]
    assert "fonts-noto-color-emoji" not in chromium
    assert "install -y -qq fonts-noto-color-emoji" in font.split("||", 1)[1]
