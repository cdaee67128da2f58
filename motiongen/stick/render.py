"""Stick figures to video: anti-aliased strokes, faces with expressions, captions.

Frames are drawn with Pillow at twice the output size and scaled down with a Lanczos filter
(anti-aliasing), then written as H.264 MP4 through ffmpeg (imageio-ffmpeg, as the 3-D
renderer does). The camera's stick units map to pixels so that 2.2 units fill the frame
height at zoom 1.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError, MotionGenError
from motiongen.stick.representation import segments

SIZES = {(640, 480), (960, 480)}
FPS = 25.0
SUPERSAMPLE = 2
EXPRESSIONS = ("neutral", "happy", "sad", "angry", "surprised")
SYLLABLES_PER_SECOND = 4.0  # a talking mouth without a speech track: open, shut, 4 times a second
CAPTION_WIDTH = 0.9  # share of the frame a caption line may span before it wraps
MOUTH_SHUT = 0.1  # openings below this draw the expression's mouth
FACE_TURN = 0.5  # a face in profile has its features this share of the head's radius aside


@dataclass
class Actor:
    """One figure: (T, 20) stick numbers at ``fps``, an expression per frame (or one), the
    mouth per frame as ``talking`` (bool: it opens and closes at a syllable rate while set;
    float in [0, 1]: how far it is open, e.g. following a speech track's loudness), a colour."""

    stick: np.ndarray
    fps: float = 20.0
    expression: str | Sequence[str] = "neutral"
    talking: np.ndarray | None = None
    colour: tuple[int, int, int] = (30, 30, 30)
    facing: np.ndarray | None = None  # per frame, -1 (the screen's left) to +1: the face turns
    behind: bool = False  # drawn behind the others (one passing them)
    since: float = 0.0  # seconds before which it is not on the stage (one that walks on later)

    def at(self, seconds: float) -> np.ndarray:
        """(20,) stick numbers at a time, linearly interpolated."""
        t = min(max(seconds * self.fps, 0.0), len(self.stick) - 1)
        lo = int(np.floor(t))
        hi = min(lo + 1, len(self.stick) - 1)
        w = t - lo
        return self.stick[lo] * (1 - w) + self.stick[hi] * w

    def expression_at(self, seconds: float) -> str:
        if isinstance(self.expression, str):
            return self.expression
        i = min(int(seconds * self.fps), len(self.expression) - 1)
        return self.expression[i]

    def _frame(self, seconds: float, count: int) -> int:
        """The frame at ``seconds`` of a per-frame track ``count`` long, held at its ends."""
        return min(max(int(seconds * self.fps), 0), count - 1)

    def mouth_at(self, seconds: float) -> float:
        """How far the mouth is open, 0 (closed: the expression's mouth) to 1."""
        if self.talking is None or len(self.talking) == 0:
            return 0.0
        i = self._frame(seconds, len(self.talking))
        if self.talking.dtype == bool:
            return 1.0 if self.talking[i] and int(seconds * SYLLABLES_PER_SECOND) % 2 == 0 else 0.0
        return float(np.clip(self.talking[i], 0.0, 1.0))

    def facing_at(self, seconds: float) -> float:
        if self.facing is None or len(self.facing) == 0:
            return 0.0
        return float(np.clip(self.facing[self._frame(seconds, len(self.facing))], -1.0, 1.0))

    @property
    def seconds(self) -> float:
        return (len(self.stick) - 1) / self.fps


@dataclass
class Scene:
    actors: list[Actor]
    width: int = 640
    height: int = 480
    # (start, end, text) or (start, end, text, the speaker's colour: the caption's ground)
    captions: list[tuple[Any, ...]] = field(default_factory=list)
    camera: np.ndarray | None = None  # (frames at FPS, 3): x, y, zoom of the view per frame
    warnings: list[str] = field(default_factory=list)  # what the model made of the actions
    hold: float = 0.0  # seconds the scene lasts at least: the actors hold their last poses

    @property
    def seconds(self) -> float:
        return max(max(a.seconds for a in self.actors), self.hold)


VIEW_HEIGHT = 2.2  # stick units from the bottom to the top of the frame at zoom 1
HEAD_RADIUS = 0.12  # stick units: about a seventh of a 1.7 m figure across
GROUND_AT = 0.92  # the view's y sits this far down the frame (the floor at y = 0, zoom 1)
# The floor line is drawn at a standing ankle's height: a stick figure's legs end at the ankles
# (it has no feet), and drawn at y = 0 the line ran 14 px under every figure, which seemed to
# float (a teacher's trial). The shipped standing pose's ankles: 0.075 m.
ANKLE_HEIGHT = 0.075


def _to_pixels(points: np.ndarray, width: int, height: int, view: np.ndarray) -> np.ndarray:
    x0, y0, zoom = view
    scale = height / VIEW_HEIGHT * zoom * SUPERSAMPLE
    u = (points[..., 0] - x0) * scale + width * SUPERSAMPLE / 2
    v = height * SUPERSAMPLE * GROUND_AT - (points[..., 1] - y0) * scale
    return np.stack([u, v], axis=-1)


FLOOR_MARK_EVERY = 0.5  # stick units between the marks under the floor line


def _floor_marks(draw, scene: Scene, view: np.ndarray, floor_y: float, W: int) -> None:  # noqa: ANN001
    """Short marks under the floor line, fixed to the ground: with the view following a lone
    walker the floor was a plain line, and the walk read as walking on the spot (a teacher's
    trial)."""
    x0, _, zoom = (float(v) for v in view)
    half = scene.width / 2 / (scene.height / VIEW_HEIGHT * zoom)  # stick units either side
    first = np.floor((x0 - half) / FLOOR_MARK_EVERY) * FLOOR_MARK_EVERY
    marks = np.arange(first, x0 + half + FLOOR_MARK_EVERY, FLOOR_MARK_EVERY)
    u = _to_pixels(np.stack([marks, np.zeros_like(marks)], axis=1), scene.width, scene.height,
                   view)[:, 0]  # fmt: skip
    length = max(3.0, 0.04 * scene.height * SUPERSAMPLE * min(zoom, 1.0))
    for x in u[(u >= 0) & (u <= W)]:
        draw.line([(x, floor_y), (x - length, floor_y + length)], fill=(200, 196, 186),
                  width=SUPERSAMPLE)  # fmt: skip


def draw_frame(scene: Scene, seconds: float, index: int = 0) -> np.ndarray:
    """One RGB frame (H, W, 3) uint8 of ``scene`` at ``seconds``."""
    from PIL import Image, ImageDraw

    W, H = scene.width * SUPERSAMPLE, scene.height * SUPERSAMPLE
    image = Image.new("RGB", (W, H), (250, 248, 242))
    draw = ImageDraw.Draw(image)
    view = scene.camera[min(index, len(scene.camera) - 1)] if scene.camera is not None else (
        np.array([0.0, 0.0, 1.0])
    )  # fmt: skip
    floor_y = _to_pixels(np.array([0.0, ANKLE_HEIGHT]), scene.width, scene.height, view)[1]
    draw.line([(0, floor_y), (W, floor_y)], fill=(200, 196, 186), width=2 * SUPERSAMPLE)
    _floor_marks(draw, scene, view, floor_y, W)
    # the first actor in front, one passing the others behind them all
    for actor in sorted(reversed(scene.actors), key=lambda a: not a.behind):
        if seconds >= actor.since:
            _draw_actor(draw, actor, seconds, scene, view)
    for start, end, text, *colour in scene.captions:
        if start <= seconds < end:
            _caption(draw, text, W, H, tuple(colour[0]) if colour else (0, 0, 0))
    small = image.resize((scene.width, scene.height), Image.Resampling.LANCZOS)
    return np.asarray(small)


def _draw_actor(draw, actor: Actor, seconds: float, scene: Scene, view: np.ndarray) -> None:  # noqa: ANN001
    segs = {k: v[0] for k, v in segments(actor.at(seconds)[None]).items()}
    px = {k: _to_pixels(v, scene.width, scene.height, view) for k, v in segs.items()}
    # Zoomed out to keep far-apart actors in view, strokes and heads shrink with the figure
    # (the head at zoom 0.3 had been a third of the body and swallowed raised hands).
    zoom = min(1.0, float(view[2]))
    stroke = max(2, int(scene.height / 80 * np.sqrt(zoom))) * SUPERSAMPLE  # zoom 1: as before
    unit = scene.height / VIEW_HEIGHT * float(view[2]) * SUPERSAMPLE  # pixels per stick unit
    colour = actor.colour
    hip = px["torso"][1]
    # Under the limbs, so hands raised to the head show in front of it.
    _head(draw, actor, seconds, px["head"], HEAD_RADIUS * unit, colour, stroke)
    lines = [px["torso"], px["left_arm"], px["right_arm"], (hip, px["legs"][0]),
             (hip, px["legs"][1]), (px["torso"][0], px["left_arm"][0]),
             (px["torso"][0], px["right_arm"][0])]  # fmt: skip
    for a, b in lines:
        draw.line([tuple(a), tuple(b)], fill=colour, width=stroke, joint="curve")
        for p in (a, b):
            r = stroke / 2
            draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=colour)


def _head(draw, actor: Actor, seconds: float, ends: np.ndarray, radius: float,  # noqa: ANN001
          colour: tuple[int, int, int], stroke: int) -> None:  # fmt: skip
    neck, top = ends
    # The skeleton's neck-to-head span is short (~11 cm); a drawn head about that radius
    # sitting on the neck reads as a head and leaves room for a face.
    span = float(np.linalg.norm(top - neck))
    radius = max(radius, stroke * 1.5)
    centre = neck + (top - neck) * (radius / max(span, 1e-6))
    draw.ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius],
                 outline=colour, width=stroke, fill=(255, 255, 255))  # fmt: skip
    _face(draw, centre, radius, actor.expression_at(seconds), actor.mouth_at(seconds), colour,
          stroke, actor.facing_at(seconds))  # fmt: skip


def _face(draw, c: np.ndarray, r: float, expression: str, mouth: float,  # noqa: ANN001
          colour: tuple[int, int, int], stroke: int, turned: float = 0.0) -> None:  # fmt: skip
    # Turned to a side (``Actor.facing``), the features move that way and the eyes close up,
    # as a head seen three-quarters on: a frontal face on every figure showed no one looking
    # at whom they waved to.
    c = np.array([c[0] + FACE_TURN * r * turned, c[1]])
    eye_dx, eye_y = 0.35 * r * (1.0 - 0.5 * abs(turned)), c[1] - 0.15 * r
    eye_r = max(r * (0.16 if expression == "surprised" else 0.1), 1.5)
    for sx in (-1, 1):
        ex = c[0] + sx * eye_dx
        draw.ellipse([ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r], fill=colour)
        if expression in ("angry", "sad"):
            # Brows (heights above the eye): angry slant down to the middle, sad up to it.
            inner, outer = (0.3, 0.5) if expression == "angry" else (0.55, 0.35)
            draw.line([(ex - sx * 0.25 * r, eye_y - inner * r), (ex + sx * 0.2 * r, eye_y - outer * r)],
                      fill=colour, width=max(1, stroke // 2))  # fmt: skip
    mouth_y, w = c[1] + 0.4 * r, 0.45 * r
    box = [c[0] - w, mouth_y - 0.25 * r, c[0] + w, mouth_y + 0.25 * r]
    width = max(1, stroke // 2)
    if mouth >= MOUTH_SHUT:
        half = (0.05 + 0.15 * mouth) * r  # wider open, taller oval
        draw.ellipse([c[0] - 0.2 * r, mouth_y - half, c[0] + 0.2 * r, mouth_y + half],
                     outline=colour, width=width)  # fmt: skip
    elif expression == "happy":
        draw.arc(box, start=20, end=160, fill=colour, width=width)
    elif expression == "sad":
        draw.arc([box[0], box[1] + 0.3 * r, box[2], box[3] + 0.3 * r], start=200, end=340,
                 fill=colour, width=width)  # fmt: skip
    elif expression == "surprised":
        draw.ellipse([c[0] - 0.15 * r, mouth_y - 0.2 * r, c[0] + 0.15 * r, mouth_y + 0.2 * r],
                     outline=colour, width=width)  # fmt: skip
    else:  # neutral, angry: a straight mouth
        draw.line([(c[0] - 0.3 * r, mouth_y), (c[0] + 0.3 * r, mouth_y)], fill=colour, width=width)


def _caption(draw, text: str, W: int, H: int, ground: tuple[int, ...] = (0, 0, 0)) -> None:  # noqa: ANN001
    """White on ``ground`` (the speaker's colour: every actor's is dark) at the top, centred;
    a line too wide for the frame wraps at words. At the bottom (before) it hid the feet,
    which stand at the frame's bottom edge in close-ups; the space above the heads is free
    except for a raised hand."""
    from motiongen.io.render import text_font

    size = H // 18
    font = text_font(size)

    def width(line: str) -> float:
        box = draw.textbbox((0, 0), line, font=font)
        return box[2] - box[0]

    lines: list[str] = []
    for word in text.split():
        if lines and width(f"{lines[-1]} {word}") <= CAPTION_WIDTH * W:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    step = size * 1.4
    top = size * 0.6
    for i, line in enumerate(lines):
        tw = width(line)
        x, y = (W - tw) / 2, top + i * step
        draw.rectangle([x - size * 0.4, y - size * 0.2, x + tw + size * 0.4, y + size * 1.2],
                       fill=ground)  # fmt: skip
        draw.text((x, y), line, fill=(255, 255, 255), font=font)


def render_scene(
    scene: Scene, path: str | Path, *, audio: str | Path | None = None, audio_offset: float = 0.0
) -> Path:
    """Write ``scene`` as an MP4 at 25 fps (640x480 or 960x480). audio: a music or speech
    recording laid under the scene from ``audio_offset`` s into the file (a negative offset
    starts it that late into the scene); the video keeps the scene's length."""
    path = Path(path)
    _check_scene(scene, path)
    if audio is None:
        return _render_frames(scene, path)
    from motiongen.io.render import check_audio_track, mux_audio

    check_audio_track(str(audio), audio_offset)  # before the frames: a bad file costs nothing
    if audio_offset <= -scene.seconds:
        raise InputError(
            f"an audio offset of {audio_offset:g} s starts the sound after the scene ends "
            f"({scene.seconds:.1f} s)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".stick-", dir=path.parent) as tmp:
        silent = _render_frames(scene, Path(tmp) / "silent.mp4")
        muxed = Path(tmp) / "muxed.mp4"
        seconds = (int(round(scene.seconds * FPS)) + 1) / FPS
        mux_audio(silent, str(audio), audio_offset, seconds, muxed)
        shutil.move(str(muxed), path)
    return path


def _check_scene(scene: Scene, path: Path) -> None:
    if (scene.width, scene.height) not in SIZES:
        raise InputError(f"stick videos are 640x480 or 960x480, got {scene.width}x{scene.height}")
    if path.suffix.lower() != ".mp4":
        raise InputError(f"stick videos are MP4 files, got {path.name}")
    for actor in scene.actors:
        for name in (
            [actor.expression] if isinstance(actor.expression, str) else set(actor.expression)
        ):
            if name not in EXPRESSIONS:
                raise InputError(
                    f"unknown expression {name!r}; use one of {', '.join(EXPRESSIONS)}"
                )


def _render_frames(scene: Scene, path: Path) -> Path:
    import imageio_ffmpeg

    frames = int(round(scene.seconds * FPS)) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        str(path), (scene.width, scene.height), fps=FPS, codec="libx264", pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p", quality=None, macro_block_size=2, ffmpeg_log_level="error",
        output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"],
    )  # fmt: skip
    try:
        writer.send(None)
        for i in range(frames):
            writer.send(draw_frame(scene, i / FPS, i))
    except (OSError, RuntimeError) as exc:
        raise MotionGenError(f"ffmpeg failed while writing {path.name}: {exc}") from exc
    finally:
        writer.close()
    return path
