"""``orgsim animate``: one frame for the start and one per operator, each with the numbers ``orgsim apply`` gives
for the package up to that operator."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from orgsim.animation import story_animation
from orgsim.cli import main
from orgsim.presentation.story import HEADLINE_NUMBERS
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario

from app.helpers import first_operators

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
YANTAI = ROOT / "scenarios" / "yantai_zones_2020.yaml"


def apply_json(path: Path) -> dict[str, Any]:
    done = CliRunner().invoke(main, ["apply", str(path), "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def drawn_numbers(fig: Any) -> dict[str, str]:
    return {t.get_gid().split(":", 1)[1]: t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))
            if (t.get_gid() or "").startswith("number:")}


@pytest.mark.slow  # draws every frame, runs orgsim apply for each
@pytest.mark.parametrize("path", [TUTORIAL, YANTAI], ids=["tutorial", "yantai"])
def test_each_frame_shows_the_numbers_of_orgsim_apply_after_that_operator(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    outcome = reform_scenario(scenario)
    anim = story_animation(outcome, scenario, lang="en")
    n = len(scenario.operators())
    assert len(anim.frames) == n + 1
    for k in range(n + 1):
        expected = apply_json(first_operators(path, k, tmp_path / f"first{k}.yaml"))["after"]
        assert json.loads(json.dumps(anim.frames[k].metrics.to_dict())) == expected
        anim.draw(k)
        assert drawn_numbers(anim.figure) == {key: str(expected[key]) for key, _label in HEADLINE_NUMBERS}
        texts = [t.get_text() for t in anim.figure.texts + anim.figure.axes[0].texts]
        if k:
            assert any(anim.frames[k].change.text[:20] in t.replace("\n", "") for t in texts)


@pytest.mark.slow  # draws and writes every frame
def test_gif_has_one_frame_per_operator_plus_the_start(tmp_path: Path) -> None:
    out = tmp_path / "story.gif"
    done = CliRunner().invoke(main, ["animate", str(TUTORIAL), "-o", str(out), "--lang", "en", "--seconds", "2"])
    assert done.exit_code == 0, done.output
    with Image.open(out) as gif:
        assert gif.n_frames == len(load_scenario(TUTORIAL).operators()) + 1
        assert gif.size == (1280, 720)
        assert gif.info["duration"] == 2000
    assert [p.name for p in tmp_path.iterdir()] == ["story.gif"]  # nothing left beside it


@pytest.mark.slow  # draws every frame
def test_html_embeds_every_frame_and_needs_no_network(tmp_path: Path) -> None:
    out = tmp_path / "story.html"
    done = CliRunner().invoke(main, ["animate", str(TUTORIAL), "-o", str(out), "--lang", "zh"])
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    frames = re.findall(r'"data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(frames) == len(load_scenario(TUTORIAL).operators()) + 1
    assert all(base64.b64decode(f)[:8] == b"\x89PNG\r\n\x1a\n" for f in frames)
    without_frames = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"(https?:)?//[a-z]", without_frames), "a reference that needs the network"
    assert "<html lang=\"zh-Hans\">" in html and "下一步" in html  # the player speaks the page's language


@pytest.mark.slow  # draws every frame, runs ffmpeg
@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is not installed (.ci/run installs it)")
def test_mp4_is_written_with_ffmpeg(tmp_path: Path) -> None:
    out = tmp_path / "story.mp4"
    done = CliRunner().invoke(main, ["animate", str(TUTORIAL), "-o", str(out), "--seconds", "1"])
    assert done.exit_code == 0, done.output
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 10_000


def test_mp4_without_ffmpeg_says_so_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import animation

    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    out = tmp_path / "story.mp4"
    done = CliRunner().invoke(main, ["animate", str(TUTORIAL), "-o", str(out)])
    assert done.exit_code == 2
    assert f"{out}: writing MP4 needs ffmpeg" in done.output and "Traceback" not in done.output
    assert not list(tmp_path.iterdir())


def test_other_suffixes_and_bad_files_are_usage_errors(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["animate", str(TUTORIAL), "-o", str(tmp_path / "story.avi")])
    assert done.exit_code == 2 and "must end in .gif, .mp4 or .html" in done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(TUTORIAL.read_text(encoding="utf-8").replace("cap: 60", "cap: -5"), encoding="utf-8")
    done = CliRunner().invoke(main, ["animate", str(bad), "-o", str(tmp_path / "story.gif")])
    assert done.exit_code == 2 and re.search(r"bad\.yaml:\d+: reforms\[1\]\.reforms\[2\]\.cap", done.output)
    assert not (tmp_path / "story.gif").exists()
