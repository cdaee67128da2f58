"""The web page served at ``/``, driven in headless Debian Chromium through Playwright against
a real ``motiongen serve`` on 127.0.0.1.

Skips (with the reason) only when no Chromium binary is installed: ``apt-get install -y
chromium`` provides it (scripts/install.sh does when it runs as root). Playwright's own
browser download is never used.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import motiongen
from motiongen.data.synthetic import synth_motion

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("MOTIONGEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The player's bone colours (style.css, dark theme): left side blue, right side red.
LEFT_BLUE = (59, 130, 246)
RIGHT_RED = (239, 68, 68)
COUNTER_JS = "Number(document.getElementById('frame-counter').textContent.split(' ')[1])"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``motiongen serve`` process; yields its base URL."""
    if not Path(CHROMIUM).is_file():
        if os.environ.get("MOTIONGEN_REQUIRE_BROWSER"):  # CI: a missing browser is a failure
            pytest.fail(f"no Chromium at {CHROMIUM} but MOTIONGEN_REQUIRE_BROWSER is set")
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or point MOTIONGEN_CHROMIUM at one) to run the browser tests"
        )
    tmp = tmp_path_factory.mktemp("web")
    port = _free_port()
    log = (tmp / "server.log").open("wb")
    cmd = [sys.executable, "-m", "motiongen.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1", "--store", str(tmp / "store")]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"motiongen serve exited with {proc.returncode}:\n{_tail(tmp)}")
            try:
                with urllib.request.urlopen(url + "health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"motiongen serve did not answer /health in 90 s:\n{_tail(tmp)}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _tail(tmp: Path) -> str:
    return (tmp / "server.log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def browser_context(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 720},
            color_scheme="dark",
            accept_downloads=True,
        )
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(browser_context, server: str) -> Iterator[object]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    # the model list comes from GET /models
    page.wait_for_function("document.querySelectorAll('#model option[value=\"tiny-flow\"]').length")
    yield page
    page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _canvas_pixels(page) -> np.ndarray:
    png = page.locator("#player").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def _count_colour(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> int:
    return int((np.abs(img - np.array(rgb)).max(axis=-1) < tol).sum())


def _generated(page, prompt: str, seconds: int, seed: int) -> tuple[int, int]:
    """Generate from the form and wait until it plays; returns (frame, total)."""
    page.fill("#prompt", prompt)
    page.fill("#seconds", str(seconds))
    page.fill("#seed", str(seed))
    page.click("#generate")
    return _wait_playing(page)


def _wait_playing(page, timeout: float = 60_000) -> tuple[int, int]:
    """Wait until the frame counter moves by itself; returns (frame, total)."""
    page.wait_for_function(f"{COUNTER_JS} > 1", timeout=timeout)
    first = page.evaluate(COUNTER_JS)
    page.wait_for_function(f"{COUNTER_JS} !== {first}", timeout=10_000)
    text = page.inner_text("#frame-counter")
    frame, total = (int(x) for x in text.removeprefix("frame ").split(" / "))
    return frame, total


def test_generate_plays_and_draws_the_figure(page, tmp_path: Path) -> None:
    empty = _canvas_pixels(page)
    assert _count_colour(empty, LEFT_BLUE) == 0  # nothing but the floor before a motion
    assert page.inner_text("#frame-counter") == "frame 0 / 0"

    frame, total = _generated(page, "a person walks forward happily", 3, 7)
    assert total == 60  # 3 s at the model's 20 fps
    assert 1 <= frame <= total
    assert "error" not in page.get_attribute("#message", "class")

    page.click("#play")  # pause, so the picture is one frame
    img = _canvas_pixels(page)
    assert img.std() > 10, "the canvas is (nearly) one flat colour"
    assert len(np.unique(img.reshape(-1, 3) // 8, axis=0)) > 50
    # the figure's limbs, drawn in the left and right colours
    assert _count_colour(img, LEFT_BLUE) > 150
    assert _count_colour(img, RIGHT_RED) > 150

    # the scrub bar and speed selector drive the player
    page.locator("#scrub").fill("10")
    assert page.inner_text("#frame-counter") == f"frame 11 / {total}"
    page.select_option("#speed", "2")
    assert page.evaluate("window.motiongenPage.viewer.speed") == 2
    # the player's loop box stops looping, and the form's "seamless loop" box is the motion's
    # own (two boxes had one id: the player's did nothing, the form's switched playback)
    page.uncheck("#play-loop")
    assert page.evaluate("window.motiongenPage.viewer.loop") is False
    page.check("#loop")
    page.uncheck("#loop")
    assert page.evaluate("window.motiongenPage.viewer.loop") is False
    page.check("#play-loop")
    assert page.evaluate("window.motiongenPage.viewer.loop") is True
    assert page.locator("[id]").evaluate_all(
        "els => els.length === new Set(els.map(e => e.id)).size"
    ), "two elements share an id"

    # .motion download: the same motion again (same seed), readable by the library
    with page.expect_download(timeout=60_000) as dl:
        page.click("#download-motion")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    # named for what it is (every download had been motion.*: an animator's trial)
    assert saved.name == "a_person_walks_forward_happily_seed7.motion"
    motion = motiongen.load(saved)
    assert motion.num_frames == total

    # the downloads' frame rate: the same 3 s motion as a 30-fps BVH
    page.select_option("#download-fps", "30")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#download-bvh")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    bvh = motiongen.load(saved)
    assert saved.suffix == ".bvh" and bvh.fps == 30 and bvh.num_frames == 90
    assert "at 30 fps" in page.inner_text("#message")


def test_open_local_motion_file_plays(page, tmp_path: Path) -> None:
    path = motiongen.save(synth_motion("wave", seconds=2.5, seed=3), tmp_path / "wave.motion")
    expected = motiongen.load(path).num_frames
    page.set_input_files("#open-file", str(path))
    frame, total = _wait_playing(page, timeout=10_000)
    assert total == expected
    assert "wave.motion" in page.inner_text("#message")
    assert "error" not in page.get_attribute("#message", "class")
    img = _canvas_pixels(page)
    assert _count_colour(img, LEFT_BLUE) > 150
    # a local file can be saved again, but not converted without the server
    assert page.is_enabled("#download-motion")
    assert not page.is_enabled("#download-bvh")


def test_a_reopened_timeline_keeps_its_segments(page, tmp_path: Path) -> None:
    # an animator's composed .motion reopened was one motion: its restyle lost the bow, and
    # the timeline editor kept its own rows
    motion = synth_motion("walk", seconds=4.0, seed=3)
    motion.meta["segments"] = [["a man walks forward", 2.0], ["a man bows", 2.0]]
    path = motiongen.save(motion, tmp_path / "story.motion")
    page.set_input_files("#open-file", str(path))
    _wait_playing(page, timeout=10_000)
    texts = page.eval_on_selector_all("#segments .seg-text", "els => els.map(e => e.value)")
    assert texts == ["a man walks forward", "a man bows"]
    assert "a man walks forward, then a man bows" in page.inner_text("#title")


def test_open_stick_figure_file_plays(page, tmp_path: Path) -> None:
    from motiongen.stick.files import StickData, save_stick
    from motiongen.stick.representation import to_stick

    walk = synth_motion("walk", seconds=2.0, seed=1).positions
    wave = synth_motion("wave", seconds=2.0, seed=2).positions
    sticks = np.stack([to_stick(walk), to_stick(wave) + np.array([1.5, 0.0] * 10)])
    T = sticks.shape[1]
    camera = np.stack([np.zeros(T), np.zeros(T), np.linspace(1.0, 1.3, T)], axis=1)
    path = save_stick(StickData(sticks, 20.0, camera=camera), tmp_path / "scene.motion")
    page.set_input_files("#open-file", str(path))
    frame, total = _wait_playing(page, timeout=10_000)
    assert total == T
    assert "scene.motion" in page.inner_text("#message")
    page.click("#play")
    img = _canvas_pixels(page)
    assert _count_colour(img, LEFT_BLUE) > 100 and _count_colour(img, RIGHT_RED) > 100
    bad = tmp_path / "bad.motion"
    bad.write_text(json.dumps({"meta": {"format": "motiongen-stick", "fps": 20, "actors": 2},
                               "motion": [0.0] * 30}))  # fmt: skip
    page.set_input_files("#open-file", str(bad))
    page.locator("#message.error").wait_for(timeout=5_000)
    assert "2 actor(s) x frames x 20" in page.inner_text("#message")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ('{"meta": {"version": 1}}', "missing key 'motion'"),
        (
            json.dumps({"meta": {"version": 1, "frames": 3}, "fps": 20, "motion": [0.0] * 66}),
            "truncated or corrupt",
        ),
        (json.dumps({"meta": {}, "fps": 20, "motion": [0.0] * 65}), "not a multiple of 66"),
        (
            json.dumps({"meta": {"fps": 20}, "fps": 60, "motion": [0.0] * 66}),
            "'fps' says 60 and 'meta.fps' 20",
        ),
    ],
)
def test_bad_motion_file_shows_an_error(page, tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "broken.motion"
    bad.write_text(content)
    page.set_input_files("#open-file", str(bad))
    message = page.locator("#message.error")
    message.wait_for(timeout=5_000)
    text = message.inner_text()
    assert "broken.motion" in text and expected in text
    assert page.inner_text("#frame-counter") == "frame 0 / 0"  # nothing was loaded


def _warning_for(page, prompt: str) -> str:
    """Generate 2 s of ``prompt`` on the page; the warning it shows."""
    page.fill("#prompt", prompt)
    page.fill("#seconds", "2")
    page.click("#generate")
    message = page.locator("#message.warn")
    message.wait_for(timeout=60_000)
    return message.inner_text()


def test_unknown_action_is_said_on_the_page(page) -> None:
    assert "far from every action" in _warning_for(page, "a person eats a sandwich")
    _wait_playing(page)  # the motion is still shown


def test_a_style_never_recorded_with_the_action_is_said_and_can_be_kept(page) -> None:
    warning = _warning_for(page, "a person raises both hands happily")
    assert "made from 'a person raises both hands'" in warning
    # the advice names the page's box, not the library's option
    assert 'tick "keep styles the action was never recorded in"' in warning
    assert "literal=True" not in warning
    _wait_playing(page)
    page.check("#literal")
    page.click("#generate")
    page.wait_for_function(
        "document.querySelector('#message').innerText.includes('may follow')", timeout=60_000
    )


def test_too_long_prompt_shows_the_api_error(page, server: str) -> None:
    prompt = "walk " * 201  # 1,005 characters; the API allows 1,000
    body = json.dumps({"text": prompt, "seconds": 6.5, "format": "json"}).encode()
    request = urllib.request.Request(
        server + "generate", data=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    api_error = json.loads(answer.value.read())["error"]

    page.fill("#prompt", prompt)
    page.click("#generate")
    message = page.locator("#message.error")
    message.wait_for(timeout=30_000)
    assert message.inner_text() == f"{answer.value.code}: {api_error}"
    assert page.is_enabled("#generate")  # the page is usable again


def test_dance_to_an_uploaded_song_plays(page, tmp_path: Path) -> None:
    from tests.serve_helpers import write_song

    song = write_song(tmp_path / "song.wav", seconds=4.0)
    page.set_input_files("#music", str(song))
    page.fill("#dance-seconds", "2")
    page.fill("#prompt", "a person dances the waltz")  # goes with the song
    page.click("#dance")  # a job: the page polls GET /jobs/{id} until it is done
    frame, total = _wait_playing(page, timeout=90_000)
    assert total == 40  # 2 s at 20 fps
    assert page.evaluate("window.motiongenPage.viewer.motion.title") == "a person dances the waltz"
    assert page.is_checked("#beat-sync")  # retimed onto the beats unless unticked
    assert "error" not in page.get_attribute("#message", "class")
    page.click("#play")
    img = _canvas_pixels(page)
    assert _count_colour(img, LEFT_BLUE) > 150 and _count_colour(img, RIGHT_RED) > 150


CONTROL_SHIPPED = (
    Path(motiongen.__file__).parent / "assets" / "models" / "tiny-control" / "config.json"
).is_file()


def _total(page) -> int:
    return int(page.inner_text("#frame-counter").split(" / ")[1])


@pytest.mark.skipif(not CONTROL_SHIPPED, reason="the control model tiny-control is not shipped")
def _continue(page, text: str, seconds: float, total: int, field: str = "#prompt") -> None:
    """Continue the motion on stage by ``seconds`` doing ``text`` (said in ``field``: the
    Generate prompt, or the card's own "Then"); waits for ``total`` frames."""
    page.fill(field, text)
    page.fill("#continue-seconds", str(seconds))
    page.click("#continue")
    page.wait_for_function(
        f"document.getElementById('frame-counter').textContent.endsWith('/ {total}')",
        timeout=60_000,
    )


def test_continue_restyle_and_a_timeline_from_the_page(page) -> None:
    assert page.is_disabled("#continue")  # nothing on stage yet
    _generated(page, "a person walks forward", 3, 7)
    before = page.evaluate("Array.from(window.motiongenPage.viewer.motion.positions.slice(0, 66))")

    # more than the service makes in all: said in the page's terms, before any request
    page.fill("#continue-seconds", "500")
    page.click("#continue")
    page.locator("#message.error").filter(has_text="add at most 27 s").wait_for(timeout=5_000)
    _continue(page, "a person waves with the right hand", 2, total=100)
    after = page.evaluate("Array.from(window.motiongenPage.viewer.motion.positions.slice(0, 66))")
    np.testing.assert_allclose(after, before, atol=1e-3)  # the start is the motion that was there
    assert "ok" in page.get_attribute("#message", "class")

    page.wait_for_function("document.querySelector('#style option[value=\"sad\"]') !== null")
    page.select_option("#style", "sad")
    page.select_option("#blend-style", "happy")
    # the weight says which way it goes ("Blend 0.7" said neither: a trial)
    assert page.inner_text("#blend-value") == "50 % towards happy"
    page.click("#restyle")
    # a sad restyle of a brisk walk may slide along the kept path: said as a warning
    page.locator("#message.ok, #message.warn").filter(has_text="restyled").wait_for(timeout=60_000)
    assert _total(page) == 100 and "sad" in page.inner_text("#title")
    # the source's speed kept on request: the answer says nothing of a pace
    requests = []
    page.on("request", lambda r: requests.append(r.post_data or "") if "/restyle" in r.url else 0)
    page.select_option("#blend-style", "")
    page.check("#keep-speed")
    page.click("#restyle")
    page.locator("#message.ok, #message.warn").filter(has_text="restyled").wait_for(timeout=60_000)
    assert '"keep_speed":true' in requests[-1] and "of its speed" not in page.inner_text("#message")
    # or the whole path at the style's pace, in more time (one or the other)
    page.check("#whole-path")
    assert not page.is_checked("#keep-speed")
    page.click("#restyle")
    page.locator("#message.ok, #message.warn").filter(has_text="restyled").wait_for(timeout=60_000)
    assert '"whole_path":true' in requests[-1] and '"keep_speed"' not in requests[-1]
    page.uncheck("#whole-path")

    page.click("#add-segment")
    rows = page.locator("#segments .segment")
    rows.nth(2).locator(".seg-text").fill("a person bows")
    # 3 s, not 2: with a motion index a bow asked in 2 s warns it may be cut off (a message
    # of class warn); the data's bows last about 4.6 s and may play at most 2x quicker
    rows.nth(2).locator(".seg-seconds").fill("3")
    page.click("#compose")
    page.locator("#message.ok").filter(has_text="composed").wait_for(timeout=60_000)
    assert _total(page) == 180  # 3 s + 3 s + 3 s at 20 fps
    assert "then a person bows" in page.inner_text("#title")
    # the timeline restyled goes with its segments: each part keeps its own words
    page.uncheck("#keep-speed")
    page.click("#restyle")
    page.locator("#message.ok, #message.warn").filter(has_text="restyled").wait_for(timeout=60_000)
    assert '"segments":[{"text":' in requests[-1] and _total(page) == 180
    # continued, a timeline goes on as one: its answer's segments end with the new text (they
    # were lost, and a restyle after read the whole as the new text's action: a new user's trial)
    said = page.evaluate("window.motiongenPage.viewer.motion.segments")
    # said in the card's own field, which wins over the prompt (a "then" prompt's whole text
    # had been asked again: an animator's trial)
    page.fill("#prompt", "a person walks, then bows")
    _continue(page, "a person raises both hands", 2, total=220, field="#continue-text")
    went_on = page.evaluate("window.motiongenPage.viewer.motion.segments")
    assert went_on[:-1] == said and went_on[-1] == ["a person raises both hands", 2]

    rows.nth(0).locator(".seg-seconds").fill("100")
    page.click("#compose")
    page.locator("#message.error").filter(has_text="lasts 100 s").wait_for(timeout=5_000)
    assert "a segment lasts 1 to 30 s" in page.inner_text("#message")
    rows.nth(0).locator(".seg-text").fill("")
    page.click("#compose")
    page.locator("#message.error").filter(has_text="no text").wait_for(timeout=5_000)
    assert "segment 1 has no text" in page.inner_text("#message")


def test_a_job_poll_the_server_does_not_answer_is_asked_again(page, tmp_path: Path) -> None:
    _generated(page, "a person walks forward", 2, 3)
    dropped = []

    def flaky(route) -> None:  # the first poll of the job finds no server (a restart)
        if not dropped:
            dropped.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/jobs/*", flaky)
    with page.expect_download(timeout=90_000) as dl:
        page.click("#download-mp4")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert dropped and saved.read_bytes()[4:8] == b"ftyp"
    page.unroute("**/jobs/*")


def test_a_seamless_loop_in_place_is_made_and_downloaded_as_such(page, tmp_path: Path) -> None:
    # the command line's --loop / --no-travel on the page: an engine's walk cycle
    page.fill("#prompt", "a person walks forward")
    page.fill("#seconds", "4")
    page.fill("#seed", "3")
    page.check("#loop")
    page.check("#in-place")
    page.click("#generate")
    _, total = _wait_playing(page)
    assert 41 <= total <= 80  # at least half of 4 s, closed
    assert "a loop starting at" in page.inner_text("#message")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#download-motion")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    motion = motiongen.load(saved)
    assert motion.num_frames == total
    pelvis = motion.positions[:, 0]
    np.testing.assert_allclose(pelvis[:, [0, 2]], 0.0, atol=1e-3)  # in place, at the origin


def test_a_then_prompt_is_made_as_a_timeline_on_the_page(page) -> None:
    _, total = _generated(page, "a person walks, then bows", 4, 2)
    assert total == 80
    message = page.inner_text("#message")
    assert "as a timeline: a person walks (2.0 s), then a person bows (2.0 s)" in message


def test_a_download_job_is_picked_up_again_after_a_reload(page, tmp_path: Path) -> None:
    # reloaded during an MP4's render, the page had come back blank while the server rendered
    # on for nothing (a trial): the job is remembered and its file saved after the reload
    _generated(page, "a person waves", 2, 5)
    page.route("**/jobs/*", lambda route: route.abort())  # no poll answers: still waiting
    page.click("#download-mp4")
    page.wait_for_function("localStorage.getItem('motiongen-pending-job') !== null")
    page.unroute("**/jobs/*")
    with page.expect_download(timeout=90_000) as dl:
        page.reload()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert saved.read_bytes()[4:8] == b"ftyp" and saved.name.endswith(".mp4")
    page.wait_for_function("localStorage.getItem('motiongen-pending-job') === null")
    assert "picked up after the reload" in page.inner_text("#message")
