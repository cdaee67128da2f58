"""Control tasks against their baselines and real motion, on held-out clips.

Run:  .venv/bin/python benchmarks/tasks.py [--checkpoint tiny-control] [--split test]
          [--windows 40] [--out docs/results/tasks]

- In-betweening (LaFAN1 protocol, ``motiongen.eval.tasks``): 10 context frames, a gap of
  5 / 15 / 30 frames (20 fps), one target frame; L2P and NPSS over the gap for the model,
  linear interpolation and zero velocity; how far the given frames land from where they were
  given (root included).
- Prediction: 1 s of past, errors of the joints at 0.5 / 1 / 2 s against constant and zero
  velocity; the pelvis speed jump across the seam against real motion's frame-to-frame jumps.
- Edit: a 3 s span made anew with another action's text, recognised as that action by the
  label classifier, the model's way (a text model's motion sewn in, ``tasks.edit``) and by
  the control model alone; jerk at the span's seams, foot skating in the span and the sanity
  checker's verdict on the whole motion; an arms edit to an arm action (wave, bye-bye, raise
  both hands, punch) against the same windows given a real clip of that action's arms;
  everything outside the edit unchanged.
- Restyle: each clip moved in another style; content kept and style hit (label classifier)
  against the same rates on real clips of that content x style, also with the source's speed
  kept (``keep_speed``); foot skating of walks restyled slower, at the style's pace and at
  the source's speed; blends between two styles swept 0..1 (the classifier's probability of
  the second style should rise monotonically).
- Timelines: three actions of 3 s each; each segment recognised as its own action; joint
  jerk around the seams against real motion's.
- Switch (a continuation into another action): 2 s of a real clip continued to 7 s with
  another action's text (walk -> wave, bow, kick; run -> raise both hands; a two-hand wave
  -> walk), the model's way (the new action made by the text model and joined to the past
  by in-betweening, ``Pipeline._check_continued_into``) and the control model alone
  (``segment_model="self"``): the pelvis speed jump at the seam, the largest change of
  pelvis speed in the 2 s after it (m/s^2), foot skating there, the share of those frames
  with both toes off the floor (real walks 0), and the new action recognised in the last 3 s.

Every motion is made as a user gets it (post-processed, the given parts enforced). For
in-betweening and prediction the model is told what the clip shows (its plainest
description), as a user asking for a continuation would; ``--no-text`` leaves it out (pure
motion completion, like the baselines). Also
writes FILE_examples.png (contact sheets) and FILE_blend.png (the blend curves).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402
from motiongen.eval import tasks as m  # noqa: E402
from motiongen.generation.timeline import JOIN_HALF  # noqa: E402

FPS = 20.0
CONTEXT = 10
GAPS = (5, 15, 30)
PAST = 20  # 1 s
HORIZONS = {"0.5 s": 10, "1 s": 20, "2 s": 40}
EDIT_ACTIONS = ("bow", "wave-right-hand", "raise-up-both-hands", "kick", "punch", "byebye")
# An arms edit can only ask for what arms do (a bow or a kick is the torso's or the legs').
ARM_ACTIONS = ("wave-right-hand", "raise-up-both-hands", "punch", "byebye")
# More arm texts with a plain sign (``arms_show``): other words than the data's descriptions,
# which the control model was trained on word for word, and the one-hand raises ARM_ACTIONS
# leaves out (a new user's 15 such edits never got a wrist above the shoulder).
ARM_WORDINGS = (
    ("raise-up-both-hands", "a person raises both hands above the head"),
    ("raise-up-right-hand", "a person raises the right hand"),
    ("raise-up-both-hands", "someone lifts both arms up high"),
    ("wave-right-hand", "someone waves hello with the right hand"),
    ("raise-up-left-hand", "a person raises the left hand"),
    ("raise-up-both-hands", "a man puts both his hands up"),
    ("wave-right-hand", "a woman waves her right arm"),
)
TIMELINE_ACTIONS = ("walk", "bow", "wave-right-hand", "raise-up-both-hands", "kick", "run",
                    "punch", "byebye", "walk-back")  # fmt: skip
SEGMENT_SECONDS = 3.0
SEAM_REACH = 10  # frames from a span's end that count as its transition (seams of 6-10)
TRAVEL_M = 1.0  # a window whose pelvis moves farther across an edit's span travels


@functools.cache
def _data() -> Any:
    from motiongen.data.prepare import prepare

    return prepare().data


@functools.cache
def _classifier() -> Any:
    from motiongen.evaluators.classifier import LabelClassifier

    return LabelClassifier.from_pretrained()


def clips(split: str, min_frames: int, bandai_only: bool = False) -> list[tuple[Any, np.ndarray]]:
    """(record, positions at 20 fps) of the kept clips of ``split`` at least that long."""
    data = _data()
    out = []
    for rec in data.select(split=split):
        if bandai_only and not rec.labels.get("style"):
            continue
        pos = data.motion(rec).resample(FPS).positions.astype(np.float64)
        if len(pos) >= min_frames:
            out.append((rec, pos))
    return out


def windows(pool: list, length: int, count: int, seed: int) -> list[tuple[Any, np.ndarray]]:
    """``count`` windows of ``length`` frames, one per clip (clips drawn without repeats
    while they last), at random offsets."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    out = []
    for k in range(count):
        rec, pos = pool[order[k % len(pool)]]
        start = int(rng.integers(0, len(pos) - length + 1))
        out.append((rec, pos[start : start + length]))
    return out


def motion(positions: np.ndarray) -> Any:
    from motiongen.motion import Motion

    return Motion(positions=positions.astype(np.float32), fps=FPS)


def descriptions() -> dict[str, str]:
    from motiongen.data.text import describe

    return {c: describe({"content": c, "style": "normal"})[0] for c in
            set(EDIT_ACTIONS) | set(TIMELINE_ACTIONS)}  # fmt: skip


# ---- in-betweening ------------------------------------------------------------------------
TEXT = True  # --no-text sets False


def clip_text(rec: Any) -> str | None:
    from motiongen.evaluators.labels import clip_texts

    return clip_texts(rec)[0] if TEXT else None


def inbetween(pipe: Any, split: str, count: int) -> dict[str, Any]:
    longest = CONTEXT + max(GAPS) + 1
    test = windows(clips(split, longest), longest, count, seed=1)
    train = windows(clips("train", longest), longest, 400, seed=2)
    mean, std = m.normalisation(np.stack([w for _, w in train]), CONTEXT - 1)
    rows: dict[str, Any] = {}
    for n in GAPS:
        truth, model, lerp, hold, hit = [], [], [], [], []
        for i, (rec, w) in enumerate(test):
            ctx, target = w[:CONTEXT], w[CONTEXT + n]
            out = pipe.inbetween([motion(ctx), motion(target[None])], [0.0, (CONTEXT + n) / FPS],
                                 clip_text(rec), seed=i).positions  # fmt: skip
            given = np.concatenate([out[:CONTEXT], out[CONTEXT + n :]]) - np.concatenate(
                [ctx, target[None]]
            )
            hit.append(float(np.abs(given).max()))
            window = np.concatenate([ctx, out[CONTEXT : CONTEXT + n], target[None]])
            frame = np.stack([w[: CONTEXT + n + 1], window])
            aligned = m.to_frame_of(frame, CONTEXT - 1)
            truth.append(aligned[0, CONTEXT : CONTEXT + n])
            model.append(aligned[1, CONTEXT : CONTEXT + n])
            a_ctx, a_target = aligned[0, CONTEXT - 1], aligned[0, CONTEXT + n]
            lerp.append(m.interpolation(a_ctx, a_target, n))
            hold.append(m.zero_velocity(a_ctx, n))
        t = np.stack(truth)
        rows[str(n)] = {
            "windows": len(test),
            "l2p": {k: round(m.l2p(np.stack(v), t, mean, std), 4)
                    for k, v in (("model", model), ("interpolation", lerp), ("zero velocity", hold))},
            "npss": {k: round(m.npss(np.stack(v), t), 5)
                     for k, v in (("model", model), ("interpolation", lerp), ("zero velocity", hold))},
            "keyframe_error_max_m": max(hit),
        }  # fmt: skip
    return rows


# ---- prediction ---------------------------------------------------------------------------
def predict(pipe: Any, split: str, count: int) -> dict[str, Any]:
    length = PAST + max(HORIZONS.values())
    test = windows(clips(split, length), length, count, seed=3)
    err: dict[str, list[np.ndarray]] = {"model": [], "constant velocity": [], "zero velocity": []}
    jumps, seam_gap = [], []
    for i, (rec, w) in enumerate(test):
        past = w[:PAST]
        out = pipe.predict(motion(past), length / FPS, clip_text(rec), seed=i).positions
        out = out.astype(np.float64)
        truth = w[PAST:]
        n = len(truth)
        err["model"].append(m.joint_error(out[PAST:], truth))
        err["constant velocity"].append(m.joint_error(m.constant_velocity(past, n), truth))
        err["zero velocity"].append(m.joint_error(m.zero_velocity(past[-1], n), truth))
        jumps.append(m.speed_jump(out, PAST, FPS))
        seam_gap.append(float(np.abs(out[:PAST] - past).max()))
    real = real_speed_jumps(split)
    return {
        "windows": len(test),
        "error_m": {
            k: {h: round(float(np.mean([e[f - 1] for e in v])), 4) for h, f in HORIZONS.items()}
            for k, v in err.items()
        },  # fmt: skip
        "seam_speed_jump": {
            "model_mean": round(float(np.mean(jumps)), 3),
            "model_p95": round(float(np.percentile(jumps, 95)), 3),
            "real_p95": round(float(np.percentile(real, 95)), 3),
            "real_p99": round(float(np.percentile(real, 99)), 3),
        },  # fmt: skip
        "past_error_max_m": max(seam_gap),
    }


# ---- a continuation into another action -------------------------------------------------
SWITCHES = (("walk", "wave-right-hand"), ("walk", "bow"), ("walk", "kick"),
            ("run", "raise-up-both-hands"), ("wave-both-hands", "walk"))  # fmt: skip
SWITCH_PAST, SWITCH_SECONDS, SWITCH_AFTER = 40, 7.0, 40  # 2 s of past, 7 s in all, 2 s judged


def switch(pipe: Any, split: str, count: int) -> dict[str, Any]:
    texts = descriptions()
    pool = clips(split, SWITCH_PAST + 1, bandai_only=True)
    per = max(1, count // len(SWITCHES))
    rows: dict[str, dict[str, list[float]]] = {}
    for a, b in SWITCHES:
        pasts = [pos[:SWITCH_PAST] for rec, pos in pool if rec.labels.get("content") == a][:per]
        for i, past in enumerate(pasts):
            for way, options in (
                ("joined", {}),
                ("control model alone", {"segment_model": "self"}),
            ):
                out = pipe.predict(motion(past), SWITCH_SECONDS, texts[b], seed=i, **options)
                p = out.positions.astype(np.float64)
                k, after = SWITCH_PAST, p[SWITCH_PAST : SWITCH_PAST + SWITCH_AFTER]
                speed = m.root_speed(p, FPS)
                airborne, skating = _feet(after)
                seen = _classifier().classify([motion(p[-int(3 * FPS) :])]).content[0]
                row = rows.setdefault(f"{a} -> {b}, {way}", {})
                for key, value in (
                    ("seam_jump", m.speed_jump(p, k, FPS)),
                    ("pace_change", float(np.abs(np.diff(speed[k - 1 : k + SWITCH_AFTER])).max() * FPS)),
                    ("skating", skating),
                    ("airborne", airborne),
                    ("recognised", float(seen == b)),
                    ("joined", float(bool(out.meta.get("continued_into")))),
                ):  # fmt: skip
                    row.setdefault(key, []).append(value)
    return {
        row: {k: round(float(np.mean(v)), 3) for k, v in by.items()} | {"n": len(by["seam_jump"])}
        for row, by in rows.items()
    }


def real_speed_jumps(split: str) -> np.ndarray:
    """Pelvis speed changes between consecutive frame steps of real clips."""
    out = []
    for _, pos in clips(split, 30):
        s = m.root_speed(pos, FPS)
        out.append(np.abs(np.diff(s)))
    return np.concatenate(out)


# ---- edit ---------------------------------------------------------------------------------
def edit(pipe: Any, split: str, count: int) -> dict[str, Any]:
    """Span edits made the model's way (its ``tasks.edit.segment_model``: a text model's
    motion sewn in) and by the control model itself (``segment_model="self"``), in one run."""
    words = descriptions()
    test = windows(clips(split, 140), 140, count, seed=4)  # 7 s
    rng = np.random.default_rng(5)
    a, b = 40, 100  # 2 s .. 5 s
    cfg = (pipe.config.conditioning.tasks or {}).get("edit", {})
    ways = {"": {}, "_self": {"segment_model": "self"}}
    if cfg.get("segment_model") in (None, "self"):  # the model's way is the control model's
        ways = {"": {}}
    span_out: dict[str, list[float]] = {w: [] for w in ways}
    spans: dict[str, list[tuple[np.ndarray, str]]] = {w: [] for w in ways}
    jerks: dict[str, list[float]] = {w: [] for w in ways}
    skates: dict[str, list[float]] = {w: [] for w in ways}
    edge_jumps: dict[str, list[float]] = {w: [] for w in ways}
    sane: dict[str, list[bool]] = {w: [] for w in ways}
    wrist_seams: dict[str, list[float]] = {w: [] for w in ways}
    real_wrists: list[float] = []
    # Whether the window's pelvis goes on across the span: its frames after the span stand
    # metres on, so the new action must cover that ground (a wave on a walk is walked, and the
    # label classifier, trained on whole bodies, reads a walk). Apart, with the arms' sign.
    travels: list[bool] = []
    span_shown: list[float | None] = []
    # the travelling windows edited in place too (``in_place``: the action where the span
    # starts, the frames after moved along), in the same run
    placed: list[tuple[np.ndarray, str]] = []
    placed_skates: list[float] = []
    placed_sane: list[bool] = []
    travel_skates: list[float] = []
    from motiongen.artifacts import foot_skating_ratio
    from motiongen.eval.sanity import SanityChecker

    checker = SanityChecker()

    arm_hit: dict[str, list[tuple[np.ndarray, str]]] = {w: [] for w in ways}
    arm_shown: dict[str, list[float | None]] = {w: [] for w in ways}
    arm_out, arm_real, arm_real_shown = [], [], []
    worded: dict[str, list[float | None]] = {w: [] for w in ways}  # ARM_WORDINGS
    arm_rng = np.random.default_rng(6)
    donors = {c: [p for r, p in clips(split, 40) if r.labels.get("content") == c]
              for c in ARM_ACTIONS}  # fmt: skip
    for i, (_, w) in enumerate(test):
        target = EDIT_ACTIONS[int(rng.integers(len(EDIT_ACTIONS)))]
        travels.append(bool(np.linalg.norm(w[b, 0, [0, 2]] - w[a, 0, [0, 2]]) > TRAVEL_M))
        for way, extra in ways.items():
            out = pipe.edit(motion(w), text=words[target], frames=(a / FPS, b / FPS), seed=i,
                            **extra)  # fmt: skip
            p = out.positions.astype(np.float64)
            span_out[way].append(float(max(np.abs(p[:a] - w[:a]).max(),
                                           np.abs(p[b:] - w[b:]).max())))  # fmt: skip
            spans[way].append((p[a:b], target))
            if not way:
                span_shown.append(arms_show(p[a:b], target))
            # The transitions: the frames around each end of the span and its seams (a sewn
            # span's seams run SEAM_REACH frames in; the control model changes course there too).
            jerks[way] += [m.mean_jerk_around(p, a + SEAM_REACH // 2, FPS, SEAM_REACH // 2 + 5),
                           m.mean_jerk_around(p, b - SEAM_REACH // 2 - 3, FPS,
                                              SEAM_REACH // 2 + 5)]  # fmt: skip
            skates[way].append(foot_skating_ratio(p[a:b], FPS))
            # the pelvis's pace across the given frames' edges (a walk stopped dead at a
            # bow's span, 1.28 -> 0.66 m/s in one frame: a new user's trial)
            edge_jumps[way].append(max(m.speed_jump(p, k, FPS) for k in
                                       [*range(a, a + SEAM_REACH + 1), *range(b - SEAM_REACH, b + 2)]))  # fmt: skip
            sane[way].append(checker.check(p, FPS).passed)  # the whole edited motion
            # an arm snapping at a seam (an edited wave's arm dropped at 6.7 m/s; a trial)
            wrist_seams[way].append(max(_wrist_speed(p[lo - 1 : hi + 1]).max() for lo, hi in
                                        ((a, a + SEAM_REACH), (b - SEAM_REACH, b))))  # fmt: skip
        if travels[-1]:
            travel_skates.append(skates[""][-1])
            there = pipe.edit(motion(w), text=words[target], frames=(a / FPS, b / FPS), seed=i,
                              in_place=True).positions.astype(np.float64)  # fmt: skip
            placed.append((there[a:b], target))
            placed_skates.append(foot_skating_ratio(there[a:b], FPS))
            placed_sane.append(checker.check(there, FPS).passed)
        real_wrists.append(float(np.percentile(_wrist_speed(w), 99)))
        arm_target = ARM_ACTIONS[int(arm_rng.integers(len(ARM_ACTIONS)))]
        from motiongen.tasks import BODY_PARTS

        keep = [j for j in range(22) if j not in BODY_PARTS["arms"]]
        for way, extra in ways.items():  # the arms from the text model's motion, or the control's
            arms = pipe.edit(motion(w), text=words[arm_target], joints=["arms"], seed=i, **extra)
            q = arms.positions.astype(np.float64)
            arm_out.append(float(np.abs(q[:, keep] - w[:, keep]).max()))
            arm_hit[way].append((q, arm_target))
            arm_shown[way].append(arms_show(q, arm_target))
            said_as, said = ARM_WORDINGS[i % len(ARM_WORDINGS)]
            other = pipe.edit(motion(w), text=said, joints=["arms"], seed=i, **extra)
            worded[way].append(arms_show(other.positions.astype(np.float64), said_as))
        if donors[arm_target]:  # the reference: a real clip's arms on this window's body
            donor = donors[arm_target][int(arm_rng.integers(len(donors[arm_target])))]
            arm_real.append((transplant_arms(w, donor), arm_target))
            arm_real_shown.append(arms_show(arm_real[-1][0], arm_target))
    clf = _classifier()

    def hits(made: list[tuple[np.ndarray, str]]) -> np.ndarray:
        pred = clf.classify([motion(p) for p, _ in made]).content
        return np.array([p == t for p, (_, t) in zip(pred, made, strict=True)])

    result: dict[str, Any] = {"windows": len(test)}
    hit = {way: hits(spans[way]) for way in ways}
    if len(ways) == 2:  # paired: windows only one way got right (a sign test's counts)
        result["span_only_sewn"] = int((hit[""] & ~hit["_self"]).sum())
        result["span_only_control"] = int((~hit[""] & hit["_self"]).sum())
    for way in ways:
        result[f"span_recognised{way}"] = round(float(hit[way].mean()), 3)
        result[f"span_seam_jerk_mean{way}"] = round(float(np.mean(jerks[way])), 1)
        result[f"span_seam_jerk_p95{way}"] = round(float(np.percentile(jerks[way], 95)), 1)
        result[f"span_foot_skating{way}"] = round(float(np.mean(skates[way])), 3)
        result[f"span_edge_speed_jump_p95{way}"] = round(
            float(np.percentile(edge_jumps[way], 95)), 3
        )
        result[f"span_edge_speed_jump_max{way}"] = round(float(np.max(edge_jumps[way])), 3)
        result[f"span_sanity{way}"] = round(float(np.mean(sane[way])), 3)
        result[f"span_seam_wrist_p95{way}"] = round(float(np.percentile(wrist_seams[way], 95)), 2)
        result[f"span_seam_wrist_max{way}"] = round(float(np.max(wrist_seams[way])), 2)
    moving = np.array(travels)
    for where, sel in (("standing", ~moving), ("travelling", moving)):
        result[f"span_recognised_{where}"] = (
            round(float(hit[""][sel].mean()), 3) if sel.any() else None
        )
        result[f"span_windows_{where}"] = int(sel.sum())
        shown = [v for v, t in zip(span_shown, sel, strict=True) if t and v is not None]
        result[f"span_arms_shown_{where}"] = round(float(np.mean(shown)), 3) if shown else None
    if placed:
        result["span_recognised_travelling_in_place"] = round(float(hits(placed).mean()), 3)
        result["span_foot_skating_travelling"] = round(float(np.mean(travel_skates)), 3)
        result["span_foot_skating_travelling_in_place"] = round(float(np.mean(placed_skates)), 3)
        result["span_sanity_travelling_in_place"] = round(float(np.mean(placed_sane)), 3)
    real_jumps = real_speed_jumps(split)
    result["real_speed_jump_p95"] = round(float(np.percentile(real_jumps, 95)), 3)
    result["real_speed_jump_p99"] = round(float(np.percentile(real_jumps, 99)), 3)
    result["real_wrist_p99_median"] = round(float(np.median(real_wrists)), 2)
    result["span_from"] = cfg.get("segment_model") or "self"
    for way in ways:
        result[f"arms_recognised{way}"] = round(float(hits(arm_hit[way]).mean()), 3)
        shown = [v for v in arm_shown[way] if v is not None]
        result[f"arms_shown{way}"] = round(float(np.mean(shown)), 3) if shown else None
        result[f"arms_shown_other_words{way}"] = round(float(np.mean(worded[way])), 3)
    result["arms_real_transplant_recognised"] = (
        round(float(hits(arm_real).mean()), 3) if arm_real else None
    )
    real_shown = [v for v in arm_real_shown if v is not None]
    result["arms_real_shown"] = round(float(np.mean(real_shown)), 3) if real_shown else None
    result["real_3s_crops_recognised"] = real_recognition(split, EDIT_ACTIONS, b_minus_a=60)
    real = [foot_skating_ratio(w[a:b], FPS) for _, w in test]
    result["real_span_foot_skating"] = round(float(np.mean(real)), 3)
    result["real_sanity"] = round(
        float(np.mean([checker.check(w, FPS).passed for _, w in test])), 3
    )
    result["outside_span_max_change_m"] = max(max(v) for v in span_out.values())
    result["outside_arms_max_change_m"] = max(arm_out)
    return result


def arms_show(positions: np.ndarray, action: str) -> float | None:
    """The share of frames whose arms plainly show ``action``: both wrists above the head for
    a two-hand raise (real clips: 53 % of frames at the median), the right wrist above its
    shoulder for a right-hand wave (84 %), that wrist above its shoulder for a one-hand raise;
    None for the other arm actions, which have no such
    plain sign (the data's goodbyes wave at any height, 0-98 % above the shoulder by style;
    its 2 punches reach 0.45 m ahead of the chest in 5 % of frames). Read where the label
    classifier, trained on whole bodies, cannot tell arm actions on a walking body (a real
    clip's arms of the action set on the windows' bodies: 43 % recognised)."""
    from motiongen.skeleton import JOINT_INDEX as J

    y = np.asarray(positions, dtype=np.float64)[..., 1]
    if action == "raise-up-both-hands":
        return float(
            np.mean((y[:, [J["left_wrist"], J["right_wrist"]]] > y[:, [J["head"]]]).all(1))
        )
    if action == "wave-right-hand":
        return float(np.mean(y[:, J["right_wrist"]] > y[:, J["right_shoulder"]]))
    if action in ("raise-up-right-hand", "raise-up-left-hand"):
        side = action.split("-")[2]
        return float(np.mean(y[:, J[f"{side}_wrist"]] > y[:, J[f"{side}_shoulder"]]))
    return None


def transplant_arms(body: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``body`` (T, 22, 3) with ``donor``'s arms (``generation.arms_edit.transplanted``): what
    a perfect arms edit with that action's real arms would look like."""
    from motiongen.generation.arms_edit import transplanted
    from motiongen.tasks import BODY_PARTS

    return transplanted(body, donor, BODY_PARTS["arms"])


def real_recognition(split: str, actions: tuple[str, ...], b_minus_a: int) -> float | None:
    """The classifier's content accuracy on centre crops of real clips of ``actions``."""
    data = _data()
    crops, labels = [], []
    for rec in data.select(split=split):
        c = rec.labels.get("content")
        if c in actions:
            pos = data.motion(rec).resample(FPS).positions
            if len(pos) >= b_minus_a:
                s = (len(pos) - b_minus_a) // 2
                crops.append(motion(pos[s : s + b_minus_a]))
                labels.append(c)
    if not crops:
        return None
    pred = _classifier().classify(crops).content
    return round(float(np.mean([p == t for p, t in zip(pred, labels, strict=True)])), 3)


# ---- restyle ------------------------------------------------------------------------------
def restyle(pipe: Any, split: str, count: int, blends: int) -> dict[str, Any]:
    from motiongen.evaluators.labels import content_label, style_label

    clf = _classifier()
    styles = [s for s in pipe.styles if s in clf.style_index]
    pool = clips(split, 60, bandai_only=True)
    test = windows(pool, 60, count, seed=6)
    rng = np.random.default_rng(7)
    outs, asks, fast, paced = [], [], [], []
    for i, (rec, w) in enumerate(test):
        own = style_label(rec.labels)
        target = [s for s in styles if s != own][int(rng.integers(len(styles) - 1))]
        out = pipe.restyle(motion(w), target, seed=i)
        outs.append(motion(out.positions))
        # A slower style walks the path at its own pace; the same restyle at the source's
        # speed (keep_speed) is the variant it replaced.
        same = out if "pace" not in out.meta else pipe.restyle(
            motion(w), target, seed=i, keep_speed=True)  # fmt: skip
        fast.append(motion(same.positions))
        if "pace" in out.meta:
            paced.append((w, out.positions, same.positions))
        asks.append((content_label(rec.labels), target, float(np.abs(
            same.positions[:, 0, [0, 2]] - w[:, 0, [0, 2]]).max())))  # fmt: skip
    pred, pred_fast = clf.classify(outs), clf.classify(fast)
    kept = [p == c for p, (c, _, _) in zip(pred.content, asks, strict=True)]
    hit = [p == s for p, (_, s, _) in zip(pred.style, asks, strict=True)]
    kept_fast = [p == c for p, (c, _, _) in zip(pred_fast.content, asks, strict=True)]
    hit_fast = [p == s for p, (_, s, _) in zip(pred_fast.style, asks, strict=True)]
    # The same rates on real clips of the asked content x style pairs (where the split has them).
    real = {(content_label(r.labels), style_label(r.labels)): pos for r, pos in pool}
    matched = [(c, s) for c, s, _ in asks if (c, s) in real]
    real_pred = clf.classify([motion(real[k][:196]) for k in matched]) if matched else None
    blend = blend_curves(pipe, pool, styles, blends)
    # Targets are drawn from every style, but the two Bandai sets share only walk and run: most
    # asks pair a content with a style no clip of the training data shows (hand raises were
    # never recorded happy). The rates on the recorded pairs say what restyle can learn here.
    cells = {(content_label(r.labels), style_label(r.labels))
             for r in _data().select(split="train") if r.labels.get("style")}  # fmt: skip
    seen = np.array([(c, s) in cells for c, s, _ in asks])

    def rate(hits: list[bool], where: np.ndarray) -> float | None:
        return round(float(np.mean(np.asarray(hits)[where])), 3) if where.any() else None

    return {
        "clips": len(test),
        "content_kept": round(float(np.mean(kept)), 3),
        "style_hit": round(float(np.mean(hit)), 3),
        "recorded_asks": int(seen.sum()),
        "recorded_content_kept": rate(kept, seen),
        "recorded_style_hit": rate(hit, seen),
        "unrecorded_content_kept": rate(kept, ~seen),
        "unrecorded_style_hit": rate(hit, ~seen),
        "chance_style": round(1 / len(styles), 3),
        "real_pairs": len(matched),
        "real_content": None if real_pred is None else round(float(np.mean(
            [p == c for p, (c, _) in zip(real_pred.content, matched, strict=True)])), 3),
        "real_style": None if real_pred is None else round(float(np.mean(
            [p == s for p, (_, s) in zip(real_pred.style, matched, strict=True)])), 3),
        "path_max_change_m": max(d for _, _, d in asks),
        # no foot joint within 5 cm of the floor: a sad walk held at a normal walk's pelvis
        # height hung with both feet up to 10 cm off it (a trial); runs fly, walks do not
        "restyle_off_floor": _off_floor([o.positions for o in outs]),
        "sources_off_floor": _off_floor([w for _, w in test]),
        "source_speed_content_kept": round(float(np.mean(kept_fast)), 3),
        "source_speed_style_hit": round(float(np.mean(hit_fast)), 3),
        **slowed(paced),
        "blend": blend,
    }  # fmt: skip


def _off_floor(motions: list[np.ndarray]) -> float:
    """Share of frames whose lowest foot joint is more than 5 cm above the floor (each motion's
    own: its lowest 2 % of foot heights), over all ``motions``."""
    from motiongen.skeleton import FOOT_JOINTS

    shares = [np.zeros(0, dtype=bool)]
    for p in motions:
        low = np.asarray(p)[:, list(FOOT_JOINTS), 1].min(axis=1)
        shares.append(low - np.percentile(low, 2) > 0.05)
    return round(float(np.mean(np.concatenate(shares))), 3) if len(motions) else float("nan")


def slowed(paced: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Foot skating of the restyles walked at a slower style's pace, of the same restyles at
    the source's speed, and of the sources; the share of each whose feet slide (foot skating
    past ``artifacts.SKATING_LIMIT``, the sanity checker's limit until 2026-12-04)."""
    from motiongen.artifacts import SKATING_LIMIT, foot_skating_ratio

    if not paced:
        return {"slowed": 0}
    skate = np.array([[foot_skating_ratio(p, FPS) for p in trio] for trio in paced])
    return {
        "slowed": len(paced),
        "slowed_skating": [round(float(v), 3) for v in skate.mean(axis=0)],  # source, paced, kept
        "slowed_sliding": [round(float(v), 3) for v in (skate > SKATING_LIMIT).mean(axis=0)],
    }


WEIGHTS = np.linspace(0.0, 1.0, 6)


def blend_curves(pipe: Any, pool: list, styles: list[str], count: int) -> dict[str, Any]:
    """The classifier's probability of style B along blends A -> B of restyled clips, and
    how far along each blend's body is: its mean joint distance (pelvis-relative) from the
    weight-0 restyle over that plus its distance from the weight-1 one (an even slider: the
    weight itself; an animator's trial found half-way nearly all B)."""
    clf = _classifier()
    rng = np.random.default_rng(8)
    test = windows(pool, 60, count, seed=9)
    curves, pairs, along = [], [], []
    for i, (_, w) in enumerate(test):
        a, b = rng.choice(styles, size=2, replace=False)
        outs = [pipe.restyle(motion(w), str(a), blend=(str(b), float(x)), seed=i).positions
                for x in WEIGHTS]  # fmt: skip
        probs = clf.classify([motion(p) for p in outs]).style_probs[:, clf.style_index[str(b)]]
        curves.append(probs)
        pairs.append([str(a), str(b)])
        along.append(_share_of_the_way(outs))
    c, g = np.stack(curves), np.array(along)
    return {
        "weights": WEIGHTS.round(2).tolist(),
        "mean_prob_of_b": [round(float(x), 3) for x in c.mean(0)],
        "mean_share_of_the_way": [round(float(x), 3) for x in g.mean(0)],
        "monotone_share": round(m.monotone_share(c), 3),
        "curves": c.round(3).tolist(),
        "pairs": pairs,
    }


def _share_of_the_way(sweep: list[np.ndarray]) -> list[float]:
    """For each motion of a blend sweep (the same frames each), its mean joint distance
    (pelvis-relative) from the first over that plus its distance from the last."""
    body = [p - p[:, :1] for p in sweep]

    def apart(p: np.ndarray, q: np.ndarray) -> float:
        return float(np.linalg.norm(p - q, axis=-1).mean())

    return [apart(body[0], p) / max(apart(body[0], p) + apart(p, body[-1]), 1e-9) for p in body]


# ---- timelines ----------------------------------------------------------------------------
SEGMENT_SECONDS_ASKED: float | None = SEGMENT_SECONDS  # --segment-seconds (None: "auto")


def timeline(pipe: Any, split: str, count: int) -> dict[str, Any]:
    words = descriptions()
    # Timelines are made from action names, not clips: other actions and seeds on other
    # splits, so settings chosen on val are not scored on the very same timelines on test.
    base = 0 if split == "test" else 1000 + sum(map(ord, split))
    rng = np.random.default_rng(10 + base)
    hits, jerks, inside, segments, lengths, edge_jerks = [], [], [], [], [], []
    edge_acts = []  # the action of the segment each edge of a join is cut from
    feet = []  # (both toes off the floor, foot skating) in each join
    spreads = []  # the widest the ankles stand apart in each join (a trial's run split 1.2 m)
    swings = []  # how far each join's facing swings past its ends' (a stop -> bow twisted 26 deg)
    for i in range(count):
        acts = [str(a) for a in rng.choice(TIMELINE_ACTIONS, size=3, replace=False)]
        made = pipe.timeline([(words[a], SEGMENT_SECONDS_ASKED) for a in acts], seed=base + i)
        out = made.positions
        # "auto": each segment as long as the timeline chose (its text's typical length)
        ends = np.cumsum([round(s * FPS) for _, s in made.meta["segments"]])
        starts = np.concatenate([[0], ends[:-1]])
        for a, b, act in zip(starts, ends, acts, strict=True):
            segments.append((motion(out[a:b]), act))
            inside.append(m.mean_jerk_around(out, (a + b) // 2, FPS))
            lengths.append((b - a) / FPS)
        jerks += [m.mean_jerk_around(out, int(a), FPS) for a in starts[1:]]
        spreads += [_ankle_spread(out[a - JOIN_HALF : a + JOIN_HALF]) for a in starts[1:]]
        swings += [_overturn(out[a - JOIN_HALF : a + JOIN_HALF + 1]) for a in starts[1:]]
        feet += [_feet(out[a - JOIN_HALF : a + JOIN_HALF]) for a in starts[1:]]
        # where the in-betweened second meets each segment (a new user's trial found the pops
        # there, at +-JOIN_HALF frames, which the frames around the middle did not see)
        edge_jerks += [m.mean_jerk_around(out, int(a) + d, FPS)
                       for a in starts[1:] for d in (-JOIN_HALF, JOIN_HALF)]  # fmt: skip
        edge_acts += [act for k in range(1, len(acts)) for act in acts[k - 1 : k + 1]]
    pred = _classifier().classify([s for s, _ in segments]).content
    hits = [p == a for p, (_, a) in zip(pred, segments, strict=True)]
    # Real frames two ways: one random frame of every clip (the reference until the
    # thirty-fourth session) and five of every clip of the timeline's own actions, a like
    # reference for joins between them (kicks and runs are jerkier than the standing most
    # clips hold: median 17 vs 9 m/s^3 on test).
    real, real_acts, real_swings, real_feet = [], [], [], []
    pool = clips(split, 40)
    real_spreads = [_ankle_spread(pos) for rec, pos in pool
                    if rec.labels.get("content") in TIMELINE_ACTIONS]  # fmt: skip
    rng = np.random.default_rng(11)
    for _, pos in pool:
        at = int(rng.integers(10, len(pos) - 10))
        real.append(m.mean_jerk_around(pos, at, FPS))
    rng = np.random.default_rng(12)
    for rec, pos in pool:
        if rec.labels.get("content") in TIMELINE_ACTIONS:
            at = rng.integers(10, len(pos) - 10, size=5)
            real_acts += [m.mean_jerk_around(pos, int(a), FPS) for a in at]
            real_swings += [_overturn(pos[a - JOIN_HALF : a + JOIN_HALF + 1]) for a in at]
            real_feet.append(_feet(pos))
    return {
        "timelines": count,
        "segment_seconds": SEGMENT_SECONDS_ASKED or "auto",
        "segment_seconds_median": round(float(np.median(lengths)), 2),
        "segments_recognised": round(float(np.mean(hits)), 3),
        "real_3s_crops_recognised": real_recognition(
            split, TIMELINE_ACTIONS, int(SEGMENT_SECONDS * FPS)
        ),
        **_spread("seam_jerk", jerks),
        **_spread("join_edge_jerk", edge_jerks),
        **_matched_real_jerk(edge_acts, edge_jerks),
        **_spread("mid_segment_jerk", inside),
        "real_jerk_median": round(float(np.median(real)), 1),
        "real_jerk_p95": round(float(np.percentile(real, 95)), 1),
        **_spread("real_actions_jerk", real_acts),
        **_spread("join_ankle_spread", spreads, digits=2),
        "join_ankle_spread_max": round(float(np.max(spreads)), 2) if spreads else None,
        "real_ankle_spread_max": round(float(np.max(real_spreads)), 2) if real_spreads else None,
        **_spread("join_overturn", swings),
        "join_overturn_max": round(float(np.max(swings)), 1) if swings else None,
        **_spread("real_overturn", real_swings),
        "join_airborne": round(float(np.mean([f[0] for f in feet])), 3) if feet else None,
        "join_skating": round(float(np.mean([f[1] for f in feet])), 3) if feet else None,
        "real_airborne": round(float(np.mean([f[0] for f in real_feet])), 3) if real_feet else None,
        "real_skating": round(float(np.mean([f[1] for f in real_feet])), 3) if real_feet else None,
    }


def _ankle_spread(positions: np.ndarray) -> float:
    """The widest the ankles stand apart along the floor over ``positions`` (m)."""
    from motiongen.skeleton import JOINT_INDEX

    a, b = (positions[:, JOINT_INDEX[f"{side}_ankle"]][:, [0, 2]] for side in ("left", "right"))
    return float(np.linalg.norm(a - b, axis=1).max())


def _overturn(positions: np.ndarray) -> float:
    """How far the facing over ``positions`` swings past the facings of its two ends (deg)."""
    from motiongen.canonical import heading
    from motiongen.postprocess.turns import overturn

    return overturn(np.unwrap(heading(positions.astype(np.float64))))


def _wrist_speed(pos: np.ndarray) -> np.ndarray:
    """The faster wrist's speed (m/s) between consecutive frames of ``pos`` (T, 22, 3)."""
    from motiongen.skeleton import LEFT_WRIST, RIGHT_WRIST

    step = np.diff(pos[:, [LEFT_WRIST, RIGHT_WRIST]], axis=0)
    return np.linalg.norm(step, axis=-1).max(axis=1) * FPS


def _feet(pos: np.ndarray) -> tuple[float, float]:
    """(share of frames with both toes over 5 cm off the floor, foot skating ratio) of
    ``pos`` (T, 22, 3): a join or a continuation that hops or glides."""
    from motiongen.artifacts import foot_skating_ratio
    from motiongen.skeleton import LEFT_FOOT, RIGHT_FOOT

    toes = pos[:, [LEFT_FOOT, RIGHT_FOOT], 1]
    return float(np.mean((toes > 0.05).all(axis=1))), foot_skating_ratio(pos, FPS)


def _matched_real_jerk(acts: list[str], edges: list[float]) -> dict[str, Any]:
    """Real jerk in the mix of actions ``acts`` (one per join edge, whose jerk is ``edges``):
    median and p95 over every frame of every clip of an action (``mean_jerk_around`` at each;
    every split: kicks and bows are recorded in train alone, the kick in one clip), each action
    weighing as much as its share of the edges. The pooled reference holds raises and waves
    (jerk 3-8 m/s^3) three times as often as the timelines do, runs (250) and kicks no more:
    an edge cut from a run is held to a standing arm's range. A pooled p95 still mixes a run's
    range with a bow's, so each edge is also held to its own action's real p95: the share above
    it (5 % if the edges moved like that action's real frames), overall and by action."""
    per: dict[str, list[np.ndarray]] = {}
    for split in ("train", "val", "test"):
        for rec, pos in clips(split, 40):
            act = rec.labels.get("content")
            if act in acts:
                per.setdefault(act, []).append(_jerk_every_frame(pos))
    if not per:
        return {}
    values = np.concatenate([np.concatenate(v) for v in per.values()])
    weights = np.concatenate(
        [np.full(sum(map(len, v)), acts.count(a) / sum(map(len, v))) for a, v in per.items()]
    )
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    cum /= cum[-1]
    q = [round(float(values[order][np.searchsorted(cum, f)]), 1) for f in (0.5, 0.95)]
    own = {a: float(np.percentile(np.concatenate(v), 95)) for a, v in per.items()}
    above = [(a, e > own[a]) for a, e in zip(acts, edges, strict=True) if a in own]
    by_action = {a: round(float(np.mean([x for b, x in above if b == a])), 2)
                 for a in sorted({b for b, _ in above})}  # fmt: skip
    return {
        "real_matched_jerk_median": q[0],
        "real_matched_jerk_p95": q[1],
        "edges_above_own_real_p95": round(float(np.mean([x for _, x in above])), 3),
        "edges_above_own_real_p95_by_action": by_action,
        "real_p95_by_action": {a: round(v, 1) for a, v in sorted(own.items())},
    }


def _jerk_every_frame(pos: np.ndarray) -> np.ndarray:
    """``m.mean_jerk_around(pos, at, FPS)`` (its default 5 frames each side) for every ``at``
    from 10 to len(pos) - 10, at once."""
    from motiongen.postprocess.smoothing import jerk

    window = np.convolve(jerk(pos, FPS).mean(axis=1), np.ones(10) / 10, mode="valid")
    return window[np.arange(10, len(pos) - 10) - 5]  # the rows at - 5 .. at + 4


def _spread(name: str, values: list[float], digits: int = 1) -> dict[str, float]:
    """Mean, median and 95th percentile of ``values`` under ``name``_mean/_median/_p95
    (none for no values: a split without clips of the actions)."""
    v = np.asarray(values, dtype=np.float64)
    if not len(v):
        return {}
    return {f"{name}_{k}": round(float(f(v)), digits) for k, f in
            (("mean", np.mean), ("median", np.median), ("p95", lambda x: np.percentile(x, 95)))}  # fmt: skip


# ---- report -------------------------------------------------------------------------------
def markdown(r: dict[str, Any]) -> str:
    lines: list[str] = []
    if "switch" in r:
        lines += ["| continuation into another action | n | seam speed jump (m/s) | largest pace "
                  "change in 2 s (m/s²) | foot skating | both feet off the floor | new action "
                  "recognised | joined |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for row, v in r["switch"].items():
            lines.append(f"| {row} | {v['n']} | {v['seam_jump']} | {v['pace_change']} | "
                         f"{v['skating']} | {v['airborne']} | {v['recognised']} | "
                         f"{v.get('joined', '–')} |")  # fmt: skip
        lines.append("")
    if "inbetween" in r:
        lines += ["| in-betweening gap | L2P model | L2P interp. | L2P zero-vel. | NPSS model | "
                  "NPSS interp. | NPSS zero-vel. | keyframe error max |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip

        def cells(scores: dict[str, float]) -> str:
            best = min(scores.values())  # the lowest error in bold
            keys = ("model", "interpolation", "zero velocity")
            return " | ".join(f"**{scores[k]}**" if scores[k] == best else f"{scores[k]}"
                              for k in keys)  # fmt: skip

        for n, row in r["inbetween"].items():
            lines.append(f"| {n} frames | {cells(row['l2p'])} | {cells(row['npss'])} | "
                         f"{row['keyframe_error_max_m'] * 100:.2g} cm |")  # fmt: skip
    if "predict" in r:
        p = r["predict"]
        lines += ["", "| prediction error (m) | " + " | ".join(HORIZONS) + " |",
                  "|---|" + "---|" * len(HORIZONS)]  # fmt: skip
        for k, v in p["error_m"].items():
            lines.append(f"| {k} | " + " | ".join(str(v[h]) for h in HORIZONS) + " |")
        s = p["seam_speed_jump"]
        lines.append(
            f"\nSeam: pelvis speed jump {s['model_mean']} m/s mean, {s['model_p95']} p95 (real "
            f"frame-to-frame: p95 {s['real_p95']}, p99 {s['real_p99']}); past kept to "
            f"{p['past_error_max_m']:.1g} m."
        )
    rows = []
    if "edit" in r:
        e = r["edit"]
        rows.append(
            f"| edit 3 s span (made by {e['span_from']}): new action recognised / jerk at its "
            f"ends mean, p95 / foot skating in the span / sanity passed | {e['span_recognised']} "
            f"/ {e['span_seam_jerk_mean']}, {e['span_seam_jerk_p95']} m/s³ / "
            f"{e['span_foot_skating']} / {e.get('span_sanity', '–')} | real 3 s crops "
            f"{e['real_3s_crops_recognised']}; the windows' own skating "
            f"{e['real_span_foot_skating']}, sanity {e.get('real_sanity', '–')} |"
        )
        if "span_edge_speed_jump_p95" in e:
            rows.append(
                f"| edit 3 s span: the pelvis's largest speed jump from frame to frame in its "
                f"transitions (from a given frame {SEAM_REACH} frames in), p95 / max (m/s) | "
                f"{e['span_edge_speed_jump_p95']}"
                f" / {e['span_edge_speed_jump_max']}"
                + (f"; control model {e['span_edge_speed_jump_p95_self']} / "
                   f"{e['span_edge_speed_jump_max_self']}" if "span_edge_speed_jump_p95_self" in e
                   else "")
                + f" | real frame-to-frame p95 {e['real_speed_jump_p95']}, p99 "
                f"{e['real_speed_jump_p99']} |"
            )  # fmt: skip
        if "span_recognised_travelling" in e:
            rows.append(
                f"| edit 3 s span: recognised in windows standing ({e['span_windows_standing']}) "
                f"/ travelling more than {TRAVEL_M:g} m across the span "
                f"({e['span_windows_travelling']}); frames showing a raise or a wave there "
                f"| {e['span_recognised_standing']} / {e['span_recognised_travelling']}; "
                f"{e['span_arms_shown_standing']} / {e['span_arms_shown_travelling']} "
                f"| a real clip's arms of the action on the window's body (the arms edit's "
                f"reference: its own actions, whole windows): {e.get('arms_real_shown', '–')} |"
            )
        if "span_recognised_travelling_in_place" in e:
            rows.append(
                f"| edit 3 s span in the travelling windows, in place (`in_place`: the action "
                f"where the span starts, the frames after moved along): recognised / foot "
                f"skating in the span / sanity passed | "
                f"{e['span_recognised_travelling_in_place']} / "
                f"{e['span_foot_skating_travelling_in_place']} / "
                f"{e['span_sanity_travelling_in_place']} | as made: "
                f"{e['span_recognised_travelling']} / {e['span_foot_skating_travelling']} |"
            )
        if "span_seam_wrist_p95" in e:
            rows.append(
                f"| edit 3 s span: the fastest wrist within {SEAM_REACH} frames of either end, p95 "
                f"/ max (m/s) | {e['span_seam_wrist_p95']} / {e['span_seam_wrist_max']}"
                + (f"; control model {e['span_seam_wrist_p95_self']} / "
                   f"{e['span_seam_wrist_max_self']}" if "span_seam_wrist_p95_self" in e else "")
                + f" | the windows' own wrists' p99, median {e['real_wrist_p99_median']} |"
            )  # fmt: skip
        if "span_recognised_self" in e:
            rows.append(
                f"| edit 3 s span (made by the control model): the same | "
                f"{e['span_recognised_self']} / {e['span_seam_jerk_mean_self']}, "
                f"{e['span_seam_jerk_p95_self']} m/s³ / {e['span_foot_skating_self']} / "
                f"{e.get('span_sanity_self', '–')} | only "
                f"one way right: sewn {e['span_only_sewn']}, control {e['span_only_control']} |"
            )
        rows.append(
            f"| edit arms (arm actions; raises' arms {e.get('span_from', 'the model')}'s, the "
            f"others the control model's): new "
            f"action recognised / frames showing it (raises, waves) / the same for more arm "
            f"texts (other words, one-hand raises) | {e['arms_recognised']} / {e.get('arms_shown', '–')} / "
            f"{e.get('arms_shown_other_words', '–')} | a real clip's arms of it on the window's "
            f"body {e.get('arms_real_transplant_recognised', '–')} / "
            f"{e.get('arms_real_shown', '–')} |"
        )
        if "arms_recognised_self" in e:
            rows.append(
                f"| edit arms (made by the control model): the same | "
                f"{e['arms_recognised_self']} / {e['arms_shown_self']} / "
                f"{e['arms_shown_other_words_self']} | |"
            )
        rows += [
            f"| edit: largest change outside the edit | span {e['outside_span_max_change_m']:.1g} "
            f"m, arms {e['outside_arms_max_change_m']:.1g} m | 1e-5 m |",
        ]
    if "restyle" in r:
        st = r["restyle"]
        rows += [
            f"| restyle: content kept | {st['content_kept']} | real clips of the pair "
            f"{st['real_content']} ({st['real_pairs']}) |",
            f"| restyle: target style hit | {st['style_hit']} | real {st['real_style']}, chance "
            f"{st['chance_style']} |",
            f"| restyle to a pair the training data recorded ({st['recorded_asks']} of "
            f"{st['clips']}): content kept / style hit | {st['recorded_content_kept']} / "
            f"{st['recorded_style_hit']} | |",
            f"| restyle to a pair never recorded: content kept / style hit | "
            f"{st['unrecorded_content_kept']} / {st['unrecorded_style_hit']} | |",
            f"| restyle at the source's speed (`keep_speed`): content kept / style hit | "
            f"{st['source_speed_content_kept']} / {st['source_speed_style_hit']} | |",
        ]
        if st.get("slowed"):
            src, paced, kept = st["slowed_skating"]
            rows.append(
                f"| restyle of walks to a slower style ({st['slowed']}): foot skating, the "
                f"style's pace / the source's speed | {paced} / {kept} (sliding "
                f"{st['slowed_sliding'][1]} / {st['slowed_sliding'][2]}) | the sources {src} |"
            )
        if "restyle_off_floor" in st:
            rows.append(
                f"| restyle: frames with no foot on the floor (lowest foot joint > 5 cm) | "
                f"{st['restyle_off_floor']} | the sources {st['sources_off_floor']} |"
            )
        rows += [
            f"| restyle: blends rising monotonically | {st['blend']['monotone_share']} | mean "
            f"P(B) {st['blend']['mean_prob_of_b']} |",
            f"| restyle: blends' bodies, share of the way from A to B | "
            f"{st['blend']['mean_share_of_the_way']} | the weights {st['blend']['weights']} |",
        ]
    if "timeline" in r:
        t = r["timeline"]
        rows += [
            f"| timeline: segments recognised (segments of {t['segment_seconds']} s, median "
            f"{t['segment_seconds_median']} s) | {t['segments_recognised']} | real 3 s crops "
            f"{t['real_3s_crops_recognised']} |",
            f"| timeline: jerk at seams (m/s³), mean / median / p95 | {_spread_said(t, 'seam_jerk')}"
            f" | real frames of the timeline's actions {_spread_said(t, 'real_actions_jerk')}; "
            f"one frame of every clip: median {t['real_jerk_median']}, p95 {t['real_jerk_p95']} |",
            f"| timeline: jerk where a join's in-betweened second meets the segments (m/s³) | "
            f"{_spread_said(t, 'join_edge_jerk')} | real frames of the same actions as the "
            f"edges, in their mix: median {t.get('real_matched_jerk_median', '-')}, p95 "
            f"{t.get('real_matched_jerk_p95', '-')} |",
            f"| timeline: jerk mid-segment, same motions (m/s³) | "
            f"{_spread_said(t, 'mid_segment_jerk')} | |",
        ]
        if "edges_above_own_real_p95" in t:
            by = t["edges_above_own_real_p95_by_action"]
            own = t["real_p95_by_action"]
            rows.append(
                f"| timeline: join edges jerkier than their own action's real p95 (share; by "
                f"action, its real p95 in m/s³) | {t['edges_above_own_real_p95']} ("
                + ", ".join(f"{a} {v} of {own[a]}" for a, v in by.items())
                + ") | real frames 0.05 |"
            )
        if t.get("join_airborne") is not None:
            rows.append(
                f"| timeline: in the joins, frames with both toes off the floor / foot skating | "
                f"{t['join_airborne']} / {t['join_skating']} | real clips of the actions "
                f"{t['real_airborne']} / {t['real_skating']} |"
            )
        if "join_ankle_spread_p95" in t:
            rows.append(
                f"| timeline: widest the ankles stand apart in a join (m), mean / median / p95; "
                f"max | {_spread_said(t, 'join_ankle_spread')}; {t['join_ankle_spread_max']} | "
                f"real clips of the actions: max {t['real_ankle_spread_max']} |"
            )
        if "join_overturn_p95" in t:
            rows.append(
                f"| timeline: how far a join's facing swings past its ends' (deg), mean / median "
                f"/ p95; max | {_spread_said(t, 'join_overturn')}; {t['join_overturn_max']} | 1 s "
                f"of real clips of the actions {_spread_said(t, 'real_overturn')} |"
            )
    if rows:
        lines += ["", "| task | result | reference |", "|---|---|---|", *rows]
    return "\n".join(lines)


def _spread_said(t: dict[str, Any], name: str) -> str:
    """ "104.4 / 60.2 / 286.8": a ``_spread`` as a table cell (older results: no median)."""
    return " / ".join(str(t.get(f"{name}_{k}", "-")) for k in ("mean", "median", "p95"))


def plots(r: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = r["restyle"]["blend"]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for c in b["curves"]:
        ax.plot(b["weights"], c, color="0.7", lw=0.8)
    ax.plot(b["weights"], b["mean_prob_of_b"], color="C0", lw=2, label="mean")
    ax.set_xlabel("blend weight towards style B")
    ax.set_ylabel("classifier P(style B)")
    ax.set_title("restyle blends A → B")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out.with_name(out.stem + "_blend.png"), dpi=120)
    plt.close(fig)


def examples(pipe: Any, out: Path) -> None:
    """Contact sheets of one motion per task, for looking at (prompts not tuned on)."""
    from PIL import Image

    from motiongen.io.render import save_png

    walk = pipe.generate("a person walks forward", seconds=3.0, seed=11)[0]
    longer = pipe.generate("a person walks forward", seconds=5.0, seed=12)[0]
    shows = [
        (pipe.predict(walk, 6.0, "a person waves with the right hand", seed=1), "continue: waves"),
        (pipe.edit(longer, text="a person bows", frames=(1.5, 4.0), seed=5),
         "edit 1.5-4 s: bows"),
        (pipe.edit(walk, text="a person raises both hands", joints=["arms"], seed=2),
         "edit arms: raises both hands"),
        (pipe.restyle(walk, "elderly", seed=3), "restyle: elderly"),
        (pipe.timeline("a person runs, then kicks, then bows", seconds=9.0, seed=4),
         "run, then kick, then bow"),
    ]  # fmt: skip
    sheets = []
    for k, (mo, title) in enumerate(shows):
        path = out.with_name(f"{out.stem}_ex{k}.png")
        save_png(mo, path, frames=6, width=180, height=220, title=title)
        sheets.append(Image.open(path))
    w = max(s.width for s in sheets)
    canvas = Image.new("RGB", (w, sum(s.height for s in sheets)), "white")
    y = 0
    for s in sheets:
        canvas.paste(s, (0, y))
        y += s.height
    canvas.save(out.with_name(out.stem + "_examples.png"))
    for k in range(len(shows)):
        out.with_name(f"{out.stem}_ex{k}.png").unlink()


class Sampling:
    """The pipeline with one guidance scale / step count / sampler for every task call (for
    choosing them on val); options left as None keep the model's."""

    TASKS = ("predict", "inbetween", "edit", "restyle", "timeline", "generate")

    def __init__(self, pipe: Any, **options: Any) -> None:
        self._pipe = pipe
        self._options = {k: v for k, v in options.items() if v is not None}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._pipe, name)
        if name not in self.TASKS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            for key, value in self._options.items():
                kwargs.setdefault(key, value)
            return attr(*args, **kwargs)

        return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="tiny-control", help="folder or shipped name")
    parser.add_argument("--split", default="test")
    parser.add_argument("--windows", type=int, default=40, help="windows / clips per task")
    parser.add_argument("--blends", type=int, default=12, help="clips swept through a blend")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json, .md, pngs")
    parser.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="one guidance scale for every task (default: the model's)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="sampling steps for every task (default: the model's)",
    )
    parser.add_argument(
        "--sampler",
        default=None,
        help="sampler for every task, e.g. midpoint (default: the model's)",
    )
    parser.add_argument("--tasks", nargs="+", default=None,
                        choices=["inbetween", "predict", "edit", "timeline", "restyle",
                                 "switch"],
                        help="only these tasks (default: all)")  # fmt: skip
    parser.add_argument("--no-text", action="store_true", help="no text for in-betweening and "
                        "prediction")  # fmt: skip
    parser.add_argument("--segment-seconds", default=str(SEGMENT_SECONDS),
                        help="a timeline segment's seconds, or 'auto' (as long as its text's "
                        "motions last in the index, the timeline's own default)")  # fmt: skip
    args = parser.parse_args(argv)
    global TEXT, SEGMENT_SECONDS_ASKED
    TEXT = not args.no_text
    SEGMENT_SECONDS_ASKED = None if args.segment_seconds == "auto" else float(args.segment_seconds)

    from rich.console import Console

    from motiongen.pipeline import Pipeline

    console = Console()
    pipe = Pipeline.from_pretrained(args.checkpoint)
    if (args.guidance, args.steps, args.sampler) != (None, None, None):
        pipe = Sampling(pipe, guidance=args.guidance, steps=args.steps, sampler=args.sampler)
    wanted = set(args.tasks or ["inbetween", "predict", "edit", "timeline", "restyle", "switch"])
    result: dict[str, Any] = {"settings": {"checkpoint": args.checkpoint, "split": args.split,
                                           "windows": args.windows, "text": TEXT,
                                           "guidance": args.guidance, "steps": args.steps,
                                           "sampler": args.sampler}}  # fmt: skip
    for name, fn in (("inbetween", inbetween), ("predict", predict), ("edit", edit),
                     ("timeline", timeline), ("switch", switch)):  # fmt: skip
        if name in wanted:
            console.print(f"{name}…")
            result[name] = fn(pipe, args.split, args.windows)
    if "restyle" in wanted:
        console.print("restyle…")
        result["restyle"] = restyle(pipe, args.split, args.windows, args.blends)
    report(markdown(result), result, args.out)
    if args.out is not None:
        out = args.out.with_suffix(".json")
        if "restyle" in result:
            plots(result, out)
        examples(pipe, out)
        console.print(f"wrote {out}, {out.with_suffix('.md')} and the pictures beside them")
    return 0


if __name__ == "__main__":
    from motiongen.errors import MotionGenError

    try:
        sys.exit(main())
    except MotionGenError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
