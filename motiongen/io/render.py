"""Rendering a motion as a stick-figure video (MP4 with optional music, or GIF) or stills.

The picture: the 3-D skeleton (left side blue, right side red, so a mirrored motion is
visible at a glance), a head with an amber nose dot showing where the body faces, its
shadow projected straight down onto a floor grid at y = 0 (feet on the floor touch their
shadow), a camera that follows the smoothed root from a fixed 3/4 front view, a title and a
frame counter.

Why not matplotlib 3-D: an ``mplot3d`` axes took 47 ms per frame even with its lines
reused. Instead the pinhole projection of every frame is computed at once in numpy and
Pillow draws the 2-D lines at twice the size, then halves the image (cheap anti-aliasing):
about 5-8 ms per frame at 640 x 480 before encoding (see docs/formats.md).
"""

from __future__ import annotations

import importlib.util
import logging
import numbers
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from motiongen.canonical import forward_direction
from motiongen.errors import (
    Cancelled,
    DataNotFoundError,
    FormatError,
    InputError,
    MotionGenError,
)
from motiongen.io import CONTACT_FRAMES  # there: the CLI's help reads it without this module
from motiongen.motion import Motion
from motiongen.skeleton import BONES, HEAD, JOINT_INDEX, JOINT_NAMES, PELVIS

log = logging.getLogger(__name__)

GIF_MAX_FPS = 20.0  # GIF delays are whole centiseconds and browsers slow down faster ones
# A video is drawn at most this often: players show no more, and a 30 s answer asked at 1000
# fps drew 30,000 frames for three minutes, holding up every other job (a new user's trial).
VIDEO_MAX_FPS = 60.0
SUPERSAMPLE = 2

# ---- look --------------------------------------------------------------------------------
SKY = (244, 246, 249)
FLOOR = (226, 229, 233)
GRID = (178, 184, 193)
SHADOW = (170, 176, 186)
TRAIL = (120, 128, 140)
LEFT = (37, 99, 235)  # blue
RIGHT = (220, 38, 38)  # red
CENTRE = (55, 65, 81)  # slate
NOSE = (245, 158, 11)  # amber
TEXT = (31, 41, 55)

BONE_RADIUS = 0.022  # m, drawn with perspective so nearer limbs look thicker
HEAD_RADIUS = 0.1  # m; SMPL's head joint sits at the base of the skull
GRID_STEP = 0.5  # m
GRID_HALF = 4.0  # m of grid drawn around the camera target, faded towards its edge
GRID_PIECES = 8  # pieces per grid line so the fade is smooth

# Camera: fixed 3/4 view from the front (+Z side, where the body faces at frame 0).
CAM_AZIMUTH = np.deg2rad(30.0)  # towards +X, the body's left
CAM_ELEVATION = np.deg2rad(20.0)
CAM_DISTANCE = 4.6  # m from the target
CAM_VFOV = np.deg2rad(36.0)
TARGET_HEIGHT = 0.85  # m: looks at about the pelvis, so jumps are visible as jumps
FOLLOW_SIGMA = 0.6  # s of Gaussian smoothing of the root path the camera follows
NEAR = 0.2  # m: geometry closer to the camera plane than this is clipped


def _bone_colour(child: int) -> tuple[int, int, int]:
    name = JOINT_NAMES[child]
    if name.startswith("left_"):
        return LEFT
    if name.startswith("right_"):
        return RIGHT
    return CENTRE


def _grid_template() -> tuple[np.ndarray, np.ndarray]:
    """Grid segment ends (S, 3) around the origin: lines along X and along Z, in pieces."""
    k = np.arange(-GRID_HALF, GRID_HALF + 1e-9, GRID_STEP)  # line offsets
    f = np.linspace(-GRID_HALF, GRID_HALF, GRID_PIECES + 1)  # piece boundaries along a line
    along_x = np.stack(np.broadcast_arrays(f[None, :], 0.0, k[:, None]), axis=-1)  # (K, P+1, 3)
    pts = np.concatenate([along_x, along_x[..., [2, 1, 0]]], axis=0)  # (L, P+1, 3)
    return pts[:, :-1].reshape(-1, 3), pts[:, 1:].reshape(-1, 3)


_GRID_A, _GRID_B = _grid_template()
BONE_CHILD = np.array([c for c, _ in BONES])
BONE_PARENT = np.array([p for _, p in BONES])
BONE_COLOURS = [_bone_colour(c) for c in BONE_CHILD]


@lru_cache(maxsize=8)
def text_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans from matplotlib's own files, so no system font is needed (Pillow's default
    font draws accented letters as boxes).

    The file is found without importing matplotlib (its font manager takes a second to load).
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        ttf = Path(spec.submodule_search_locations[0]) / "mpl-data/fonts/ttf/DejaVuSans.ttf"
        try:
            return ImageFont.truetype(str(ttf), size)
        except OSError:
            log.debug("matplotlib's DejaVuSans.ttf not readable at %s", ttf)
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1: one fixed-size bitmap font
        return ImageFont.load_default()


# ---- camera and projection -----------------------------------------------------------------
@dataclass(frozen=True)
class _Camera:
    """Pinhole camera with a fixed orientation whose position follows a per-frame target."""

    target: np.ndarray  # (T, 3) point looked at per frame
    position: np.ndarray  # (T, 3) camera centre per frame
    right: np.ndarray  # (3,)
    up: np.ndarray  # (3,)
    forward: np.ndarray  # (3,) viewing direction
    focal: float  # pixels
    cx: float
    cy: float

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (T, ..., 3) -> pixels (T, ..., 2) and depth (T, ...) along the view."""
        rel = points - self.position.reshape((-1,) + (1,) * (points.ndim - 2) + (3,))
        x, y, z = rel @ self.right, rel @ self.up, rel @ self.forward
        zs = np.maximum(z, NEAR)
        uv = np.stack([self.cx + self.focal * x / zs, self.cy - self.focal * y / zs], axis=-1)
        return uv, z

    def project_frame(self, points: np.ndarray, t: int) -> np.ndarray:
        """World points (N, 3) seen from frame ``t``'s camera -> pixels (N, 2)."""
        rel = points - self.position[t]
        x, y, z = rel @ self.right, rel @ self.up, np.maximum(rel @ self.forward, NEAR)
        return np.stack([self.cx + self.focal * x / z, self.cy - self.focal * y / z], axis=-1)

    def horizon(self) -> float:
        """Image row of the horizon (where the floor meets the sky)."""
        return self.cy - self.focal * np.tan(CAM_ELEVATION)


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing of (T,) with edge values held (scipy's mode "nearest");
    in numpy because importing scipy.ndimage costs more than rendering a short clip."""
    radius = int(4 * sigma + 0.5)
    if radius < 1 or len(x) < 2:
        return x.copy()
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return np.convolve(np.pad(x, radius, mode="edge"), k / k.sum(), mode="valid")


def _make_camera(positions: np.ndarray, fps: float, width: int, height: int) -> _Camera:
    root = positions[:, PELVIS].astype(np.float64)
    target = np.empty_like(root)
    sigma = FOLLOW_SIGMA * fps
    for axis in (0, 2):
        target[:, axis] = _smooth(root[:, axis], sigma)
    target[:, 1] = TARGET_HEIGHT
    ce, se = np.cos(CAM_ELEVATION), np.sin(CAM_ELEVATION)
    back = np.array([np.sin(CAM_AZIMUTH) * ce, se, np.cos(CAM_AZIMUTH) * ce])  # target -> camera
    forward = -back
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    focal = 0.5 * height / np.tan(0.5 * CAM_VFOV)
    return _Camera(
        target=target,
        position=target + CAM_DISTANCE * back,
        right=right,
        up=up,
        forward=forward,
        focal=float(focal),
        cx=0.5 * width,
        cy=0.5 * height,
    )


def _clip_segments(
    a: np.ndarray, b: np.ndarray, depth_a: np.ndarray, depth_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip world segments (..., 3) to the part in front of the near plane.

    Returns the clipped endpoints and a mask of segments with anything left to draw.
    """
    keep = (depth_a > NEAR) | (depth_b > NEAR)
    denom = np.where(np.abs(depth_b - depth_a) < 1e-9, 1e-9, depth_b - depth_a)
    t = np.clip((NEAR - depth_a) / denom, 0.0, 1.0)[..., None]
    hit = a + (b - a) * t
    a2 = np.where((depth_a <= NEAR)[..., None], hit, a)
    b2 = np.where((depth_b <= NEAR)[..., None], hit, b)
    return a2, b2, keep


# ---- the scene: everything projected once, drawn per frame ---------------------------------
class _Scene:
    """All per-frame geometry in pixels, computed with numpy before any drawing.

    positions: (T, 22, 3) metres, Y up. Sizes are in supersampled pixels.
    """

    def __init__(
        self,
        positions: np.ndarray,
        fps: float,
        *,
        width: int,
        height: int,
        title: str,
        trail: bool,
        segments: list[tuple[str, float]] | None = None,
        excerpt: tuple[float, float] | None = None,
    ) -> None:
        self.width, self.height = width, height
        self.fps = fps
        # (where these frames start in the whole motion, how long it is), seconds: the labels
        # count in the whole motion's frames and time (a trial could not find a panel of an
        # excerpt's sheet in its file)
        self.excerpt = excerpt
        self.title = title
        # a timeline's (text, seconds) parts: the title names the one playing
        self.segments = segments
        self.trail = trail
        self.n = len(positions)
        s = SUPERSAMPLE
        pos = positions.astype(np.float64)
        self.camera = cam = _make_camera(pos, fps, width * s, height * s)

        self.joint_uv, self.joint_depth = cam.project(pos)  # (T, 22, 2), (T, 22)
        shadow = pos.copy()
        shadow[..., 1] = 0.0
        self.shadow_uv, _ = cam.project(shadow)

        depth = 0.5 * (self.joint_depth[:, BONE_CHILD] + self.joint_depth[:, BONE_PARENT])
        self.bone_order = np.argsort(-depth, axis=1)  # far bones first
        self.bone_width = np.maximum(2.0, 2.0 * BONE_RADIUS * cam.focal / np.maximum(depth, NEAR))
        self.joint_radius = np.maximum(
            1.5, BONE_RADIUS * cam.focal / np.maximum(self.joint_depth, NEAR)
        )

        # Head: a ball just above the head joint, along the neck -> head direction.
        neck = pos[:, JOINT_INDEX["neck"]]
        axis = pos[:, HEAD] - neck
        axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-6)
        centre = pos[:, HEAD] + 0.6 * HEAD_RADIUS * axis
        nose = centre + HEAD_RADIUS * forward_direction(pos)
        head_uv, head_depth = cam.project(centre[:, None, :])
        nose_uv, nose_depth = cam.project(nose[:, None, :])
        self.head_uv, self.nose_uv = head_uv[:, 0], nose_uv[:, 0]
        self.head_depth = head_depth[:, 0]
        self.nose_in_front = nose_depth[:, 0] < self.head_depth
        self.head_radius = HEAD_RADIUS * cam.focal / np.maximum(self.head_depth, NEAR)
        self.nose_radius = 0.3 * self.head_radius

        self.root_floor = pos[:, PELVIS] * np.array([1.0, 0.0, 1.0])  # (T, 3) for the trail
        self.horizon = cam.horizon()

    def _grid(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Floor grid of frame ``t`` around the snapped target, in pieces faded by distance.

        Returns segment starts (S, 2), ends (S, 2) in pixels and colours (S, 3) uint8.
        """
        cam = self.camera
        target = cam.target[t] * np.array([1.0, 0.0, 1.0])
        origin = np.round(target / GRID_STEP) * GRID_STEP
        a = origin + _GRID_A
        b = origin + _GRID_B
        eye = cam.position[t]
        a, b, keep = _clip_segments(a, b, (a - eye) @ cam.forward, (b - eye) @ cam.forward)
        fade = np.clip(np.linalg.norm(0.5 * (a + b) - target, axis=-1) / GRID_HALF, 0.0, 1.0) ** 2
        keep &= fade < 0.98
        a, b, fade = a[keep], b[keep], fade[keep, None]
        colour = np.round(np.array(GRID) * (1 - fade) + np.array(FLOOR) * fade).astype(np.uint8)
        return cam.project_frame(a, t), cam.project_frame(b, t), colour

    # ---- drawing ------------------------------------------------------------------------
    def draw(self, t: int, *, show_title: bool = True) -> np.ndarray:
        """Frame ``t`` as (H, W, 3) uint8."""
        s = SUPERSAMPLE
        W, H = self.width * s, self.height * s
        img = Image.new("RGB", (W, H), SKY)
        d = ImageDraw.Draw(img)
        hz = float(np.clip(self.horizon, -1, H + 1))
        d.rectangle([0, hz, W, H], fill=FLOOR)

        ga, gb, gc = self._grid(t)
        for a, b, c in zip(ga.tolist(), gb.tolist(), gc.tolist(), strict=True):
            d.line([tuple(a), tuple(b)], fill=tuple(c), width=s)

        if self.trail and t > 0:
            path = self.root_floor[: t + 1]
            ok = (path - self.camera.position[t]) @ self.camera.forward > NEAR
            uv = self.camera.project_frame(path, t)
            for i in np.flatnonzero(ok[:-1] & ok[1:]):
                d.line([tuple(uv[i]), tuple(uv[i + 1])], fill=TRAIL, width=2 * s)

        sh = self.shadow_uv[t]
        for bone, (c, p) in enumerate(BONES):
            w = int(round(self.bone_width[t, bone] * 1.2))
            d.line([tuple(sh[c]), tuple(sh[p])], fill=SHADOW, width=w)
            r = 0.5 * w
            d.ellipse([sh[c, 0] - r, sh[c, 1] - r, sh[c, 0] + r, sh[c, 1] + r], fill=SHADOW)

        uv, jr = self.joint_uv[t], self.joint_radius[t]
        head_drawn = False
        head_at = float(self.head_depth[t])
        for bone in self.bone_order[t]:
            c, p = BONES[bone]
            if min(self.joint_depth[t, c], self.joint_depth[t, p]) <= NEAR:
                continue  # behind the camera: its projection would be meaningless
            depth = 0.5 * (self.joint_depth[t, c] + self.joint_depth[t, p])
            if not head_drawn and depth < head_at:
                self._draw_head(d, t)
                head_drawn = True
            colour = BONE_COLOURS[bone]
            d.line(
                [tuple(uv[c]), tuple(uv[p])],
                fill=colour,
                width=int(round(self.bone_width[t, bone])),
            )
            for j in (c, p):
                r = jr[j]
                d.ellipse([uv[j, 0] - r, uv[j, 1] - r, uv[j, 0] + r, uv[j, 1] + r], fill=colour)
        if not head_drawn:
            self._draw_head(d, t)

        img = img.reduce(s)
        self._draw_text(ImageDraw.Draw(img), t, show_title)
        return np.asarray(img)

    def _draw_head(self, d: ImageDraw.ImageDraw, t: int) -> None:
        (hx, hy), r = self.head_uv[t], self.head_radius[t]
        (nx, ny), nr = self.nose_uv[t], self.nose_radius[t]
        nose = [nx - nr, ny - nr, nx + nr, ny + nr]
        if not self.nose_in_front[t]:
            d.ellipse(nose, fill=NOSE)
        d.ellipse([hx - r, hy - r, hx + r, hy + r], fill=CENTRE)
        if self.nose_in_front[t]:
            d.ellipse(nose, fill=NOSE)

    def _segment_title(self, t: int) -> str:
        assert self.segments
        end = 0.0
        for i, (text, seconds) in enumerate(self.segments):
            end += seconds
            if t / self.fps < end - 1e-9 or i == len(self.segments) - 1:
                return f"{i + 1}/{len(self.segments)}: {text}"
        return ""

    def frame_label(self, t: int) -> str:
        """ "frame 49/120   2.40 s / 6.00 s": frame ``t`` counted in the whole motion."""
        first, n = 0, self.n
        if self.excerpt is not None:
            first, n = (int(round(x * self.fps)) for x in self.excerpt)
        at = first + t
        return f"frame {at + 1}/{n}   {at / self.fps:5.2f} s / {n / self.fps:.2f} s"

    def draw_title(self, d: ImageDraw.ImageDraw, title: str, width: int) -> None:
        """``title`` at the top left, cut with "…" to ``width`` pixels."""
        font = text_font(max(10, self.height // 28))
        margin = max(4, self.height // 60)
        max_w = width - 2 * margin
        if d.textlength(title, font=font) > max_w:
            while title and d.textlength(title + "…", font=font) > max_w:
                title = title[:-1]
            title += "…"
        d.text((margin, margin), title, fill=TEXT, font=font)

    def _draw_text(self, d: ImageDraw.ImageDraw, t: int, show_title: bool) -> None:
        size = max(10, self.height // 28)
        margin = max(4, self.height // 60)
        if show_title and (self.title or self.segments):
            title = self.title if not self.segments else self._segment_title(t)
            self.draw_title(d, title, self.width)
        small = text_font(max(9, int(size * 0.8)))
        info = self.frame_label(t)
        d.text((margin, self.height - margin - small.size - 2), info, fill=TEXT, font=small)


# ---- public API ------------------------------------------------------------------------------
def _checked_size(width: int, height: int) -> tuple[int, int]:
    if not (isinstance(width, (int, np.integer)) and isinstance(height, (int, np.integer))):
        raise InputError(
            f"width and height must be whole numbers of pixels, got {width!r}, {height!r}"
        )
    if width < 64 or height < 64 or width > 7680 or height > 4320:
        raise InputError(f"image size {width}x{height} is outside 64x64 .. 7680x4320")
    # H.264 with yuv420p needs even sizes; drop a pixel rather than rescale the picture.
    return int(width) - int(width) % 2, int(height) - int(height) % 2


def _scene(
    motion: Motion,
    fps: float | None,
    width: int,
    height: int,
    title: str | None,
    trail: bool,
    excerpt: tuple[float, float] | None = None,
) -> _Scene:
    if not isinstance(motion, Motion):
        raise InputError(f"expected a Motion, got {type(motion).__name__}")
    width, height = _checked_size(width, height)
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InputError(f"frame rate must be a positive number, got {fps!r}")
    if fps is not None and abs(fps - motion.fps) > 1e-9:
        motion = motion.resample(fps)
    return _Scene(
        motion.positions,
        motion.fps,
        width=width,
        height=height,
        title=motion.title if title is None else title,
        trail=trail,
        segments=motion.timeline_segments if title is None else None,
        excerpt=excerpt,
    )


def picture_title(motion: Motion, title: str | None) -> str | None:
    """The title a picture of ``motion`` is drawn with when ``title`` is offered: none for a
    timeline (``meta["segments"]``), whose segments name themselves as they play (a long
    prompt's title was cut short), else ``title``."""
    return None if len(motion.timeline_segments or ()) > 1 else title


def render_frame(
    motion: Motion,
    frame_index: int,
    *,
    width: int = 640,
    height: int = 480,
    title: str | None = None,
    trail: bool = False,
) -> np.ndarray:
    """One frame of the video ``render_video`` would write, as (H, W, 3) uint8.

    A negative ``frame_index`` counts from the end, as in Python indexing.
    """
    n = motion.num_frames
    if not -n <= frame_index < n:
        raise InputError(f"frame {frame_index} is outside the motion's {n} frames")
    return _scene(motion, None, width, height, title, trail).draw(frame_index % n)


def iter_frames(
    motion: Motion,
    *,
    fps: float | None = None,
    width: int = 640,
    height: int = 480,
    title: str | None = None,
    trail: bool = False,
) -> Iterator[np.ndarray]:
    """Rendered frames (H, W, 3) uint8 at ``fps`` (default the motion's), lazily."""
    scene = _scene(motion, fps, width, height, title, trail)
    for t in range(scene.n):
        yield scene.draw(t)


# Panels of a contact sheet written as ``*.png``


def contact_frames(motion: Motion, count: int) -> list[int]:
    """The frames a contact sheet of ``count`` panels shows: evenly spaced, and the middle of
    each timeline segment (``meta["segments"]``) none of those falls in (a 2 s stop between
    longer actions had no panel of its own; a trial)."""
    if count < 1:
        raise InputError(f"frames must be at least 1, got {count}")
    n = motion.num_frames
    picked = set(np.linspace(0, n - 1, count).round().astype(int).tolist())
    start = 0.0
    for _, seconds in motion.timeline_segments or ():
        a, b = int(round(start * motion.fps)), int(round((start + seconds) * motion.fps))
        if b > a and not any(a <= i < b for i in picked):
            picked.add(min(n - 1, (a + b) // 2))
        start += seconds
    return sorted(picked)


def save_png(
    motion: Motion,
    path: str | Path,
    frames: int | Sequence[int] = CONTACT_FRAMES,
    *,
    width: int = 320,
    height: int = 400,
    title: str | None = None,
    excerpt: tuple[float, float] | None = None,
) -> Path:
    """A contact sheet: ``frames`` evenly spaced frames (``contact_frames``: a timeline's
    every segment at least once), or these frame indices, side by side.

    Each panel is ``width`` x ``height``; the title is drawn on the first panel only, a
    timeline's segment (``meta["segments"]``, no title given) on every panel. excerpt:
    (start, whole length) in seconds when ``motion`` is a piece of a longer one: the panels
    are labelled with that one's frames and times.
    """
    path = Path(path)
    n = motion.num_frames
    if isinstance(frames, (int, np.integer)):
        indices = contact_frames(motion, int(frames))
    else:
        indices = [int(i) for i in frames]
        if not indices:
            raise InputError("frames is empty; give a count or frame indices")
        bad = [i for i in indices if not -n <= i < n]
        if bad:
            raise InputError(f"frames {bad} are outside the motion's {n} frames")
        indices = [i % n for i in indices]
    scene = _scene(motion, None, width, height, title, trail=False, excerpt=excerpt)
    # a timeline's panels each name their segment (one title cut a long prompt short); any
    # other title runs across the whole sheet (cut to one panel, restyles' sheets all read
    # "a person waves with the right hand in a s…": an animator's trial)
    panels = [scene.draw(i, show_title=scene.segments is not None) for i in indices]
    sheet = np.concatenate(panels, axis=1)
    # thin separators between panels
    for k in range(1, len(panels)):
        sheet[:, k * scene.width - 1] = 255
    picture = Image.fromarray(sheet)
    if scene.segments is None and scene.title:
        scene.draw_title(ImageDraw.Draw(picture), scene.title, picture.width)
    picture.save(path, format="PNG")
    return path


def render_video(
    motion: Motion,
    path: str | Path,
    *,
    fps: float | None = None,
    title: str | None = None,
    width: int = 640,
    height: int = 480,
    audio: bool = True,
    trail: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Render ``motion`` to ``.mp4`` (H.264, with its music if ``motion.audio`` is set and
    ``audio``) or ``.gif``. cancel: asked every ``CANCEL_EVERY`` frames; when it says so the
    render stops with ``Cancelled`` and leaves no file.

    fps: output frame rate; the motion is resampled to it (duration kept). Default: the
    motion's own rate for MP4 up to ``VIDEO_MAX_FPS``, at most 20 fps for GIF. Width/height are rounded down to even
    numbers. The file is written to a temporary name first, so a failure leaves no half file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise InputError(f"cannot render to {path.name}: use a .mp4 or .gif file name")
    audio_ref = motion.audio if (audio and suffix == ".mp4") else None
    if audio_ref is not None:
        check_audio_track(audio_ref.path, audio_ref.offset)
    if fps is None:
        fps = min(motion.fps, GIF_MAX_FPS if suffix == ".gif" else VIDEO_MAX_FPS)
    elif suffix == ".gif" and fps > GIF_MAX_FPS:
        raise InputError(
            f"a GIF plays at most {GIF_MAX_FPS:g} fps (browsers slow faster frames down), got "
            f"fps={fps:g}; leave fps unset or write .mp4"
        )
    scene = _scene(motion, fps, width, height, title, trail)
    if audio_ref is not None and audio_ref.offset <= -scene.n / scene.fps:
        raise InputError(
            f"audio offset {audio_ref.offset:.2f} s starts the music after the motion ends "
            f"({scene.n / scene.fps:.2f} s)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        work = tempfile.TemporaryDirectory(prefix=".render-", dir=path.parent)
    except OSError as e:  # named as the file asked for, not our scratch folder beside it
        raise OSError(e.errno, e.strerror, str(path)) from None
    with work as tmp:
        tmp_video = Path(tmp) / ("video" + suffix)
        if suffix == ".gif":
            _write_gif(scene, tmp_video, cancel)
        else:
            _write_mp4(scene, tmp_video, cancel)
            if audio_ref is not None:
                muxed = Path(tmp) / "muxed.mp4"
                mux_audio(tmp_video, audio_ref.path, audio_ref.offset, scene.n / scene.fps, muxed)
                tmp_video = muxed
        shutil.move(str(tmp_video), path)
    return path


# ---- writers -------------------------------------------------------------------------------
def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# A render asked to stop (a served job cancelled) notices within this many frames: its
# ffmpeg had encoded a 30 s video for 15 s after the job answered "cancelled" (a trial).
CANCEL_EVERY = 10


def _stop_if(cancel: Callable[[], bool] | None, t: int) -> None:
    if cancel is not None and t % CANCEL_EVERY == 0 and cancel():
        raise Cancelled("render cancelled: its caller no longer waits for it")


def _write_mp4(scene: _Scene, path: Path, cancel: Callable[[], bool] | None = None) -> None:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        (scene.width, scene.height),
        fps=scene.fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=None,
        macro_block_size=2,
        ffmpeg_log_level="error",
        output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"],
    )
    try:
        writer.send(None)  # start ffmpeg
        for t in range(scene.n):
            _stop_if(cancel, t)
            writer.send(scene.draw(t))
    except (OSError, RuntimeError) as exc:
        raise MotionGenError(f"ffmpeg failed while writing {path.name}: {exc}") from exc
    finally:
        writer.close()


def gif_durations(frames: int, fps: float) -> list[int]:
    """Per-frame display times (ms) in the GIF's whole hundredths of a second whose running
    sum stays within 5 ms of the motion's clock: one rounded time for every frame ran 10 s
    at 7 fps for 9.8 s."""
    ends = np.round(np.arange(1, frames + 1) * (100.0 / fps)).astype(int) * 10
    return np.diff(ends, prepend=0).tolist()


def _write_gif(scene: _Scene, path: Path, cancel: Callable[[], bool] | None = None) -> None:
    # One palette for all frames (from the middle one): no flicker, and quantising against a
    # fixed palette is fast. Frames are drawn lazily so only palette images stay in memory.
    middle = Image.fromarray(scene.draw(scene.n // 2))
    palette = middle.quantize(colors=255, method=Image.Quantize.MEDIANCUT)

    def quantised(t: int) -> Image.Image:
        _stop_if(cancel, t)
        image = Image.fromarray(scene.draw(t))
        return image.quantize(palette=palette, dither=Image.Dither.NONE)

    quantised(0).save(
        path,
        format="GIF",
        save_all=True,
        append_images=(quantised(t) for t in range(1, scene.n)),
        duration=gif_durations(scene.n, scene.fps),
        loop=0,
        disposal=1,
    )


def check_audio_track(audio_path: str, offset: float) -> float:
    """Fail before rendering if the audio cannot be used; returns its duration in seconds."""
    p = Path(audio_path)
    if not p.is_file():
        raise DataNotFoundError(
            f"audio file not found: {audio_path}; give an existing file (or no audio)"
        )
    if isinstance(offset, bool) or not isinstance(offset, numbers.Real) or not np.isfinite(offset):
        raise InputError(f"audio offset must be a number of seconds, got {offset!r}")
    duration = _audio_duration(p)
    if duration is None:
        raise FormatError(
            f"cannot read audio file {p.name}: neither soundfile nor ffmpeg decodes it; "
            "convert it to .wav/.ogg/.flac (or give no audio)"
        )
    if offset >= duration:
        raise InputError(
            f"audio offset {offset:.2f} s is past the end of {p.name} ({duration:.2f} s long)"
        )
    if p.suffix.lower() in (".wav", ".ogg", ".flac", ".aiff", ".aif"):
        from motiongen.io.audio import check_audio

        check_audio(p)  # a silent file is almost surely a mistake: say so before rendering
    return duration


def _audio_duration(path: Path) -> float | None:
    import soundfile

    try:
        info = soundfile.info(str(path))
        return float(info.frames) / float(info.samplerate)
    except (RuntimeError, OSError, ValueError, soundfile.LibsndfileError):
        pass
    # Formats libsndfile lacks (m4a, ...): ask ffmpeg to decode it fully.
    proc = subprocess.run(
        [
            _ffmpeg(),
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-vn",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    probe = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return _parse_duration(probe.stderr)


def _parse_duration(ffmpeg_banner: str) -> float | None:
    for line in ffmpeg_banner.splitlines():
        line = line.strip()
        if line.startswith("Duration:"):
            stamp = line.split(",")[0].split()[1]
            try:
                h, m, sec = stamp.split(":")
                return int(h) * 3600 + int(m) * 60 + float(sec)
            except ValueError:
                return None
    return None


def mux_audio(video: Path, audio_path: str, offset: float, seconds: float, out: Path) -> None:
    """Copy the video stream and add ``seconds`` of audio starting ``offset`` s into the file.

    A negative offset means the music starts ``-offset`` s after the first frame.
    """
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(video)]
    if offset >= 0:
        cmd += ["-ss", f"{offset:.6f}", "-t", f"{seconds:.6f}", "-i", str(audio_path)]
        audio_filter: list[str] = []
    else:
        cmd += ["-t", f"{seconds + offset:.6f}", "-i", str(audio_path)]
        audio_filter = ["-af", f"adelay={-offset * 1000:.0f}:all=1"]
    cmd += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", *audio_filter]
    cmd += [
        "-c:a",
        "aac",
        "-b:a",
        "160k",
        "-t",
        f"{seconds:.6f}",
        "-movflags",
        "+faststart",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise FormatError(f"ffmpeg could not add the audio from {Path(audio_path).name}: {last}")
