"""The story engine: a parsed script -> generated motions -> a stick-figure scene.

Each actor's actions become one timeline (``Pipeline.timeline``: every action generated with
its own text, each continuing the last, so there are no pops between them). Actors stand
side by side, 1.4 units apart across the view, and are pushed apart wherever their paths
would bring their pelvises closer than 0.8 units on screen (one that "runs past" crosses);
one that stays in place turns to whom it acts at. Faces follow the emotion of the action
under way and turn with the body, and the mouth moves while a line is spoken (the line is
shown as a caption on the speaker's colour): with a speech track it opens as far as the track
is loud at that moment (``speech_mouth``), without one it opens and shuts at a syllable rate.
Camera moves become a per-frame (x, y, zoom) track, eased over a second.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.stick.render import ANKLE_HEIGHT, FPS, GROUND_AT, VIEW_HEIGHT, Actor, Scene
from motiongen.stick.representation import StickCamera, to_stick
from motiongen.stick.script import (
    MOVE_SECONDS,
    TRAVELLING,
    WAIT_TEXT,
    ActorScript,
    CameraMove,
    Script,
)

SPACING = 1.4
MIN_GAP = 0.8
COLOURS = [(30, 30, 30), (170, 40, 40), (30, 90, 170), (30, 130, 60)]
PELVIS_X = 6  # the torso's lower end: x of its second end point
# A child is drawn this size of the motion the model makes (an adult's): a little girl had
# stood as tall as her grandmother (an author's trial).
CHILD_SIZE = 0.78
RACING = 1.0  # stick units an actor travels its way for one that passes it to set off behind
# Stick units across the view at zoom 1 are VIEW_HEIGHT x width / height (4.4 at 960x480,
# 2.9 at 640x480); actors are kept this much inside them.
VIEW_MARGIN = 0.8
# Zooming in (and cutting to an actor) goes this close: a standing figure then fills the frame
# from the floor to the top of its head. At 1.6 and 1.5 (before) the frame cut it at the shins.
CLOSE_UP = 1.2
# A pan moves the view this share of its width: by 1 stick unit, a fifth of a 960x480 view at
# zoom 1 and a tenth zoomed out, it "barely moved" (a new user's trial).
PAN_SHARE = 0.4
VIEW_YAW = 0.5  # a three-quarter view: walking towards the viewer still shows the stride
# Depth is dropped, so what moves along it is lost: a run towards the viewer read as a drift,
# a bow as standing still. Each actor is seen from where its body's main horizontal movement
# crosses the view this far off square (cos 25 deg = 91 % of it shows), its front still towards
# the viewer; a body that hardly moves sideways keeps VIEW_YAW.
CROSSING = np.radians(25.0)
MOVING = 0.02  # metres: spread of the main horizontal movement (a bow 0.025-0.04, a hand
# raise 0.015) under which the view stays


STORY_SHORT_ADVICE = 'give it more seconds in the script ("... for N seconds" after the action)'
# Advice worded for the library and every command, said for a story: a teacher's trial read
# "pass literal=True (--literal)" and "Pipeline.restyle(...)" as a developer's words
STORY_ADVICE = {
    "pass literal=True (--literal) to send the prompt as written": (
        "add --literal to the story command to send the action as written"
    ),
    "(for a mix of two, restyle it: motiongen restyle --style A --blend B:0.5, or "
    "Pipeline.restyle(motion, A, blend=(B, 0.5)))": "(a story shows one: keep one of them)",
}

SPEECH_SR = 16000
QUIET = 0.15  # loudness (of the track's loud level) under which the mouth is shut


def speech_mouth(audio: str | Path, offset: float, fps: float, frames: int) -> np.ndarray:
    """(frames,) mouth opening in [0, 1] from a recording's loudness: scene time t plays the
    file at t + ``offset`` s (as ``render_scene`` lays it). RMS per frame over the frame and
    its neighbours, divided by the recording's loud level (95th percentile of its voiced
    frames); pauses shut the mouth."""
    import librosa

    start = max(offset, 0.0)
    y, _ = librosa.load(str(audio), sr=SPEECH_SR, mono=True, offset=start)
    hop = int(round(SPEECH_SR / fps))
    lead = int(round(max(-offset, 0.0) * SPEECH_SR))  # a negative offset: the sound starts later
    y = np.concatenate([np.zeros(lead, dtype=np.float32), y])
    rms = librosa.feature.rms(y=y, frame_length=2 * hop, hop_length=hop, center=True)[0]
    rms = np.pad(rms, (0, max(0, frames - len(rms))))[:frames]
    voiced = rms[rms > 1e-4]
    if len(voiced) == 0:
        return np.zeros(frames)
    level = rms / np.percentile(voiced, 95)
    return np.where(level < QUIET, 0.0, np.clip(level, 0.0, 1.0))


def check_actions(script: Script, pipe: Any) -> None:
    """Refuse an action far from what the model knows, naming the nearest known ones."""
    from motiongen.generation.stand import is_stop

    # "then stops", "stands still", "waits": a timeline stands for those (generation/stand.py)
    texts = [a.text for actor in script.actors for a in actor.actions if not is_stop(a.text)]
    if not texts:
        return
    pooled = pipe.text_encoder.encode(texts).pooled
    unknown = [
        f"{text!r} (the nearest actions it knows: "
        f"{', '.join(f'{name} ({sim:.2f})' for name, sim in verdict['nearest'])})"
        for text, verdict in dict(zip(texts, pipe.known_actions(pooled), strict=True)).items()
        if not verdict["known"]
    ]
    if unknown:  # every one at once: one run per mistake had been a teacher's lot (a trial)
        raise InputError(f"the model does not know how to do {'; nor '.join(unknown)}")


REST_TEXT = WAIT_TEXT  # an actor done before the others stands as one waiting for its turn


# A camera move is held this long before the scene may end: a zoom landing in the last second
# ended the video at once (an author's trial; held 0.5 s before).
SHOT_HOLD = 1.5


def scene_seconds(script: Script) -> float:
    """How long a scene lasts: its longest actor's actions, or until its last camera move has
    played and been held ``SHOT_HOLD`` (a move written after the last action came at its last
    frame and never showed: a new user's trial)."""
    acted = max(sum(a.seconds for a in actor.actions) for actor in script.actors)
    last_move = max((m.at for m in script.camera), default=0.0)
    return max(acted, last_move + MOVE_SECONDS + SHOT_HOLD) if script.camera else acted


def actor_motions(script: Script, pipe: Any, seed: int, literal: bool = False) -> list[Any]:
    """One Motion per actor at the pipeline's fps (its meta says what the model made of the
    texts); an actor done a segment's length before the longest comes to rest and stands.
    literal: the texts go to the model as written, also a style their action was never
    recorded in (by default such style words are left out; the face still shows the emotion)."""
    from motiongen.generation.control import MIN_SEGMENT_SECONDS
    from motiongen.generation.stand import is_stop, standing
    from motiongen.motion import Motion

    out = []
    scene = scene_seconds(script)
    for i, actor in enumerate(script.actors):
        segments = [(a.text, round(a.seconds, 2)) for a in actor.actions]
        rest = scene - sum(s for _, s in segments)
        # (a timeline's segments last a second at least: a short line alone stays as it is)
        if (rest >= MIN_SEGMENT_SECONDS and not is_stop(segments[-1][0])
                and min(s for _, s in segments) >= MIN_SEGMENT_SECONDS):  # fmt: skip
            # done before the others: it comes to rest and stands (it had held its last frame,
            # mid-bow or mid-stride, for the rest of the scene: a new user's trial)
            segments.append((REST_TEXT, round(rest, 2)))
        if len(segments) == 1 and is_stop(segments[0][0]):  # stands there, as in a timeline
            fps = getattr(pipe, "fps", 20.0)
            motion = Motion(standing(int(round(segments[0][1] * fps)) + 1), fps=fps)
        elif len(segments) == 1:
            # made as a timeline's segment is, by the text model (retrieval, the length
            # warning): the control model's own 2 s bow had started bent and only stood up
            maker = pipe.text_model() if hasattr(pipe, "text_model") else pipe
            motion = maker.generate(segments[0][0], seconds=segments[0][1], seed=seed + i,
                                    literal=literal)[0]  # fmt: skip
            fps = getattr(pipe, "fps", motion.fps)
            if motion.fps != fps:  # the scene runs at the control model's rate
                motion = motion.resample(fps)
        else:
            motion = pipe.timeline(segments, seed=seed + i, literal=literal)
        out.append(motion)
    return out


def view_yaw(positions: np.ndarray, way: int | None = None, face: int | None = None) -> float:
    """The camera yaw (``StickCamera``) that shows this motion's main horizontal movement
    ``CROSSING`` off square to the view, nearest ``VIEW_YAW`` with the body's front (+Z at the
    start) towards the viewer, and going ``way`` on the screen (+1 right, -1 left: "walks to
    the right", ``ActorScript.screen_way``) where a view with the front towards the viewer
    can show that: every forward run and walk had gone to the left, "to the right" or not (a
    new user's trial); ``VIEW_YAW`` when the body moves less than ``MOVING`` along its main
    direction, or less than 1.5x as much as across it, turned to the screen's side ``face``
    (+1 right, -1 left) when given: towards the actor it acts at (``faces``)."""
    flat = np.asarray(positions, dtype=np.float64)[..., [0, 2]]  # (T, J, 2): x, z
    # VIEW_YAW turns a body facing +Z to the screen's left (``facing``)
    still = -VIEW_YAW if face == 1 else VIEW_YAW
    if len(flat) == 0 or not np.isfinite(flat).all():
        return still
    moved = (flat - flat.mean(axis=0)).reshape(-1, 2)
    values, vectors = np.linalg.eigh(moved.T @ moved / len(moved))
    if np.sqrt(values[1]) < MOVING or values[1] < 1.5**2 * values[0]:
        return still
    # The view's across direction is at angle -yaw in the (x, z) plane: put it CROSSING off
    # the movement's angle phi, either way round, facing the front (|yaw| < 90 deg).
    phi = float(np.arctan2(vectors[1, 1], vectors[0, 1]))
    candidates = [-phi + side * CROSSING + k * np.pi for side in (-1, 1) for k in range(-2, 3)]
    front = [y for y in candidates if abs(y) < np.pi / 2]
    if face and not way:  # a bow's lean towards whom it bows to (it had bowed away from him)
        front = [y for y in front if np.sign(-np.sin(y)) == face] or front
    if way:
        dx, dz = flat[-1, 0] - flat[0, 0]  # the pelvis's way over the ground
        going = [y for y in front if np.sign(np.cos(y) * dx - np.sin(y) * dz) == way]
        front = going or front
    return float(min(front, key=lambda y: abs(y - VIEW_YAW)))


def sized(stick: np.ndarray, size: float) -> np.ndarray:
    """``stick`` (T, 20) drawn ``size`` times as large about its pelvis's x and its ankles'
    height, so it stands on the same floor and goes the same way."""
    if size == 1.0:
        return stick
    out = stick.copy()
    out[:, 0::2] = stick[:, PELVIS_X : PELVIS_X + 1] + size * (
        stick[:, 0::2] - stick[:, PELVIS_X : PELVIS_X + 1]
    )
    out[:, 1::2] = ANKLE_HEIGHT + size * (stick[:, 1::2] - ANKLE_HEIGHT)
    return out


def waving_hands(script: Script, sides: list[int | None]) -> None:
    """A wave the script gave no hand is made with the hand on the side its actor faces
    (``faces``): facing the screen's right, the left; waved with the right, a grandmother had
    waved away from her grandchild (an author's trial)."""
    for actor, side in zip(script.actors, sides, strict=True):
        for action in actor.actions:
            if action.hand and side == 1:
                action.text = action.text.replace("with the right hand", "with the left hand")
                action.hand = False


def passing_ways(script: Script) -> list[int | None]:
    """Each actor's way on the screen (``ActorScript.screen_way``); one that passes the others
    without a way of its own goes the way the first of them that has one goes ("A boy runs to
    the right. A second boy runs past him.": the second had run to the left, head-on)."""
    ways = [actor.screen_way for actor in script.actors]
    theirs = next((w for w, a in zip(ways, script.actors, strict=True) if w and not a.passes), None)
    return [
        theirs if w is None and a.passes else w for w, a in zip(ways, script.actors, strict=True)
    ]


def faces(script: Script) -> list[int | None]:
    """The screen's side each actor turns to when it stays in place (+1 right, -1 left, None
    for the view's default): towards the one actor it acts at ("waves at him"), else, with
    others there, towards them from either end of the row (``place`` keeps the script's
    order). Every still actor had turned to the screen's left, so a man waving at a woman on
    his right turned his back half on her (a teacher's trial)."""
    n, out = len(script.actors), []
    for i, actor in enumerate(script.actors):
        whom = actor.addressed
        if whom is not None and whom != i:
            out.append(1 if whom > i else -1)
        elif n > 1 and i in (0, n - 1) and not actor.passes:
            out.append(1 if i == 0 else -1)
        else:
            out.append(None)
    return out


def facing(positions: np.ndarray, yaw: float) -> np.ndarray:
    """(T,) how far the body's front points across the screen seen at ``yaw`` (+1 right, -1
    left, 0 at the viewer or away), from its shoulders and hips: the face turns with it."""
    from motiongen.skeleton import JOINT_INDEX as J

    p = np.asarray(positions, dtype=np.float64)
    across = (p[:, J["left_shoulder"]] - p[:, J["right_shoulder"]]
              + p[:, J["left_hip"]] - p[:, J["right_hip"]])  # fmt: skip
    front = np.stack([-across[:, 2], across[:, 0]], axis=1)  # (x, z) of across x up
    front /= np.maximum(np.linalg.norm(front, axis=1, keepdims=True), 1e-9)
    return np.cos(yaw) * front[:, 0] - np.sin(yaw) * front[:, 1]


def place(sticks: list[np.ndarray], passing: list[bool] | None = None) -> list[np.ndarray]:
    """Actors side by side across the view (``SPACING`` apart, in the script's order), each
    then pushed to the right until its pelvis keeps ``MIN_GAP`` on screen from every actor
    before it, all the scene long; an actor ``passing`` ("runs past") is not pushed but crosses
    the others and ends ``MIN_GAP`` past the last of them on its way (drawn behind, ``render``).

    Pushed at most 1.2 units before, converging paths crossed: a man walking to the right and
    a woman walking to the left walked through each other and waved from opposite ends of the
    stage, and a girl running left ended heads touching a man (a teacher's trial). Pushed
    fully, they meet and stop ``MIN_GAP`` apart."""
    n = len(sticks)
    passing = list(passing) if passing is not None else [False] * n
    placed = []
    for i, stick in enumerate(sticks):
        shifted = stick.copy()
        shifted[:, 0::2] += (i - (n - 1) / 2) * SPACING  # every x of the 20 numbers
        placed.append(shifted)
    T = max(len(s) for s in placed)

    def x(i: int) -> np.ndarray:  # a finished actor keeps standing at its last pose
        return np.pad(placed[i][:, PELVIS_X], (0, T - len(placed[i])), mode="edge")

    stay = [i for i in range(n) if not passing[i]]
    for k, i in enumerate(stay[1:], start=1):
        gap = min(float((x(i) - x(j)).min()) for j in stay[:k])
        if gap < MIN_GAP:
            placed[i][:, 0::2] += MIN_GAP - gap
    if stay:
        lo = min(float(x(j).min()) for j in stay)
        hi = max(float(x(j).max()) for j in stay)
        for i in (i for i in range(n) if passing[i]):
            path = x(i)
            going = 1.0 if path[-1] >= path[0] else -1.0
            movers = [j for j in stay if (x(j)[-1] - x(j)[0]) * going > RACING]
            if movers:  # the others go its way too: a race. It sets off behind them and ends
                # ahead where its run is long enough, else it ends ahead (it had run head-on
                # into the boy it was to overtake, then stood inside him: an author's trial)
                starts = [float(x(j)[0]) * going for j in movers]
                ends = [float(x(j)[-1]) * going for j in movers]
                behind = min(starts) - MIN_GAP - path[0] * going
                ahead = max(ends) + MIN_GAP - path[-1] * going
                shift = going * (behind if behind >= ahead else ahead)
            else:  # across them, ending MIN_GAP past the last on its way (centred on them, a
                # girl who ran past stopped inside a woman: a teacher's trial)
                shift = (hi + MIN_GAP if going > 0 else lo - MIN_GAP) - path[-1]
            placed[i][:, 0::2] += shift
    return placed


def _feet_in_view(zoom: float) -> float:
    """The view's y at ``zoom`` that keeps the floor just inside the frame's bottom edge."""
    return (1.0 - GROUND_AT - 0.02) * VIEW_HEIGHT / zoom


# How long a close-up holds before the view widens for another actor's action (seconds).
CLOSE_UP_HOLD = 2.0


def _back_to_wide(script: Script) -> list[CameraMove]:
    """Moves ("wide": the view that keeps every actor in frame) where, after a close-up of
    one actor ("zooms in" on them, "cuts to" them) has held ``CLOSE_UP_HOLD``, another actor
    acts before the next camera sentence: the close-up had stayed on her to the end, and the
    first actor's later wave and bow were off screen (a new user's trial)."""
    spans = []  # (actor, start, end) of every action
    for i, actor in enumerate(script.actors):
        ends = np.cumsum([a.seconds for a in actor.actions])
        spans += [
            (i, float(e - a.seconds), float(e)) for a, e in zip(actor.actions, ends, strict=True)
        ]
    moves = sorted(script.camera, key=lambda m: m.at)
    out = []
    for k, move in enumerate(moves):
        # (a follow too: following a man walking off, the camera lost the old woman he
        # greeted, her wave back never shown: a teacher's trial)
        if move.kind not in ("zoom_in", "cut", "follow") or move.actor is None:
            continue
        held = move.at + CLOSE_UP_HOLD
        until = moves[k + 1].at if k + 1 < len(moves) else np.inf
        acting = [max(held, start) for i, start, end in spans if i != move.actor and end > held]
        if acting and min(acting) < until:
            out.append(CameraMove(at=min(acting), kind="wide"))
    return out


def camera_track(
    script: Script,
    sticks: list[np.ndarray],
    fps: float,
    seconds: float,
    aspect: float = 2.0,
    hidden: Sequence[float] | None = None,
) -> np.ndarray:
    """(frames at 25 fps, 3): x, y, zoom of the view, for frames ``aspect`` (width / height)
    as wide as high; an actor is left out of the framing before its ``hidden`` seconds
    (``entrance``)."""
    frames = int(round(seconds * FPS)) + 1
    t = np.arange(frames) / FPS
    pelvis_x = [s[:, PELVIS_X] for s in sticks]

    def actor_x(i: int) -> np.ndarray:
        src = np.arange(len(pelvis_x[i])) / fps
        return np.interp(t, src, pelvis_x[i])

    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    # By default the view keeps the actors' middle in frame, following it gently (1 s blur).
    xs = np.stack([actor_x(i) for i in range(len(sticks))])  # (actors, frames)
    for i, since in enumerate(hidden or ()):  # one not yet come on is not framed
        xs[i, t < since] = np.nan
    xs = np.where(np.isnan(xs), np.nanmean(xs, axis=0, keepdims=True), xs)
    blur = 0.3 * FPS  # smooth enough not to shake, quick enough not to lose anyone
    centre = gaussian_filter1d((xs.min(axis=0) + xs.max(axis=0)) / 2, sigma=blur, mode="nearest")
    # Zoomed out as far as it takes to keep every actor in view (never in beyond 1); the
    # widest spread of the surrounding 2 s, so the zoom leads rather than lags.
    widest = maximum_filter1d(xs.max(axis=0) - xs.min(axis=0), size=int(2 * FPS), mode="nearest")
    spread = gaussian_filter1d(widest, sigma=blur, mode="nearest")
    visible = max(VIEW_HEIGHT * aspect - VIEW_MARGIN, 0.5 * VIEW_HEIGHT * aspect)
    zoom = np.minimum(1.0, visible / np.maximum(spread + 1.0, 1e-6))
    track = np.stack([centre, np.zeros(frames), zoom], axis=1)
    wide = track.copy()
    for move in sorted([*script.camera, *_back_to_wide(script)], key=lambda m: m.at):
        start = int(move.at * FPS)
        if start >= frames:
            continue
        ease = np.clip((t[start:] - move.at) / MOVE_SECONDS, 0.0, 1.0)
        ease = ease * ease * (3 - 2 * ease)  # smoothstep
        now = track[start].copy()
        if move.kind == "wide":
            track[start:] = now + (wide[start:] - now) * ease[:, None]
        elif move.kind in ("zoom_in", "zoom_out"):
            # In to a close-up of the last-named actor, from however far out the view was
            # (zoomed out to 0.3 for a runner, 1.2x of that had barely shown; a new user's
            # trial); out by a third.
            if move.kind == "zoom_out":
                target = now[2] * 0.7
            elif move.actor is None:  # before any actor is named: in on the whole view
                target = now[2] * CLOSE_UP
            else:
                target = max(now[2] * CLOSE_UP, CLOSE_UP)
            track[start:, 2] = now[2] + (target - now[2]) * ease
            y = _feet_in_view(target) if move.kind == "zoom_in" else 0.0
            track[start:, 1] = now[1] + (y - now[1]) * ease
            if move.kind == "zoom_in" and move.actor is not None:
                follow = actor_x(move.actor)[start:]
                track[start:, 0] = now[0] + (follow - now[0]) * ease
        elif move.kind in ("pan_left", "pan_right"):
            across = VIEW_HEIGHT * aspect / now[2]  # stick units the view shows at its zoom
            shift = (-PAN_SHARE if move.kind == "pan_left" else PAN_SHARE) * across
            track[start:, 0] = now[0] + shift * ease
        elif move.kind == "follow":
            follow = actor_x(move.actor or 0)[start:]
            track[start:, 0] = now[0] + (follow - now[0]) * ease
            # one actor framed, at the scale one actor alone has: kept zoomed out to fit them
            # all, the followed runner stayed 90 px of a 480 px frame, her spoken line's
            # mouth unreadable, the others off screen anyway (a teacher's trial)
            target = max(now[2], 1.0)
            track[start:, 2] = now[2] + (target - now[2]) * ease
        elif move.kind == "cut":
            track[start:, 0] = actor_x(move.actor or 0)[start:]
            track[start:, 2] = CLOSE_UP
            track[start:, 1] = _feet_in_view(CLOSE_UP)
    return track


def entrance(actor: ActorScript) -> float:
    """When an actor that first waits for its turn and then travels comes on (seconds; 0 for
    any other): "Then a man walks up to the girl" had him standing at the edge of the frame
    from the start, doing nothing for 6 s (a teacher's trial); now he walks on."""
    waited = 0.0
    for action in actor.actions:
        if action.written:
            return waited if waited and TRAVELLING.search(action.text) else 0.0
        waited += action.seconds
    return 0.0


def make_scene(script: Script, pipe: Any, *, seed: int = 0, width: int = 960,
               height: int = 480, check: bool = True, speech: str | Path | None = None,
               speech_offset: float = 0.0, literal: bool = False) -> Scene:  # fmt: skip
    """The scene of ``script`` with motions from ``pipe`` (a control model for timelines).
    speech: the recording laid under the scene (from ``speech_offset`` s into it): mouths
    follow its loudness while their lines are spoken. literal: see ``actor_motions``."""
    script = copy.deepcopy(script)  # the waves' hands are decided here, not on the caller's
    sides = faces(script)
    waving_hands(script, sides)
    if check:
        check_actions(script, pipe)
    motions = actor_motions(script, pipe, seed, literal)
    from motiongen.pipeline import LENGTH_SHORT_ADVICE, SEGMENT_SHORT_ADVICE

    # A story's action always has a length (3 s unless the script says): "or none" and "leave
    # out the length" are no advice there.
    advice = {SEGMENT_SHORT_ADVICE: STORY_SHORT_ADVICE, LENGTH_SHORT_ADVICE: STORY_SHORT_ADVICE,
              **STORY_ADVICE}  # fmt: skip
    warnings = [m.meta["warning"] for m in motions if m.meta.get("warning")]
    for said, told in advice.items():
        warnings = [w.replace(said, told) for w in warnings]
    ways = passing_ways(script)
    yaws = [view_yaw(m.positions, way, face)
            for m, way, face in zip(motions, ways, sides, strict=True)]  # fmt: skip
    sticks = place([sized(to_stick(m.positions.astype(np.float64), StickCamera(yaw=yaw)),
                          CHILD_SIZE if actor.child else 1.0)
                    for m, yaw, actor in zip(motions, yaws, script.actors, strict=True)],
                   passing=[actor.passes for actor in script.actors])  # fmt: skip
    actors, captions = [], []
    # as long as its longest motion, and until its last camera move has played (the actors
    # come to rest and stand for it, ``actor_motions``)
    seconds = max((max(len(s) for s in sticks) - 1) / pipe.fps, scene_seconds(script))
    frames = int(round(seconds * pipe.fps)) + 1
    loud = None if speech is None else speech_mouth(speech, speech_offset, pipe.fps, frames)
    for i, (actor, stick) in enumerate(zip(script.actors, sticks, strict=True)):
        expressions = []
        # as long as the scene: past the actor's motion (a held scene) the mouth is shut
        talking = np.zeros(frames, dtype=bool if loud is None else np.float64)
        start = 0.0
        for action in actor.actions:
            n = int(round(action.seconds * pipe.fps))
            expressions += [action.emotion] * n
            if action.line:
                a = int(round(start * pipe.fps))
                talking[a : a + n] = True if loud is None else loud[a : a + n]
                # on the speaker's colour: centred at the top, a line was nobody's (a trial)
                captions.append((start, start + action.seconds, f'"{action.line}"',
                                 COLOURS[i % len(COLOURS)]))  # fmt: skip
            start += action.seconds
        expressions += [expressions[-1]] * max(0, len(stick) - len(expressions))
        actors.append(Actor(stick=stick, fps=pipe.fps, expression=expressions[: len(stick)],
                            talking=talking, colour=COLOURS[i % len(COLOURS)],
                            facing=facing(motions[i].positions, yaws[i]),
                            behind=actor.passes, since=entrance(actor)))  # fmt: skip
    track = camera_track(script, sticks, pipe.fps, seconds, width / height,
                         hidden=[a.since for a in actors])  # fmt: skip
    return Scene(actors=actors, width=width, height=height, captions=captions, camera=track,
                 warnings=warnings, hold=seconds)  # fmt: skip
