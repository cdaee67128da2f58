"""Span edits from a text model: where the new motion is set and what is in-betweened."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.canonical import rotate_y
from motiongen.data.synthetic import synth_sequence
from motiongen.errors import InputError
from motiongen.generation import span_edit
from motiongen.generation.span_edit import (
    core,
    placed_in_span,
    seam_frames,
    span_keyframes,
)
from motiongen.motion import Motion
from motiongen.pipeline import Pipeline
from motiongen.skeleton import PELVIS, RIGHT_ANKLE
from tests.test_pipeline import control_and_text_pipes, make_checkpoint

FPS = 20.0
SEAM = 6  # 0.3 s at 20 fps


def _walk(seconds: float = 6.0, seed: int = 1) -> np.ndarray:
    return synth_sequence(["walk"], seconds=seconds, seed=seed).positions.astype(np.float64)


def _ground(p: np.ndarray) -> np.ndarray:
    return p[..., PELVIS, :][..., [0, 2]]


def test_the_spans_own_motion_turned_elsewhere_is_set_back_where_it_was():
    # its seams carry the walk at the walk's pace: a walk set in a walk's span had stopped in
    # them, the seams carrying only SEAM_SPEED's reach and the rest sliding (a review)
    walk, a, b = _walk(), 40, 100
    lo, hi = core(walk, a, b, FPS)
    assert (lo, hi) == (SEAM, b - a - SEAM)
    moved = rotate_y(walk[a + lo : a + hi], 0.7) + np.array([3.0, 0.0, -2.0])
    placed, slide = placed_in_span(moved, walk, a, b, FPS)
    # within 9 cm: the paces, read over 5 steps, miss the stride's surge in the seams (the walk
    # goes 0.84-1.33 m/s); before, at SEAM_SPEED's reach, 23 cm and a 0.18 m/s slide
    assert slide < 0.1
    np.testing.assert_allclose(placed, walk[a + lo : a + hi], atol=0.09)


def test_a_standing_span_in_a_walk_shares_the_distance_between_its_seams(monkeypatch):
    from motiongen.generation.timeline import edge_pace

    walk, a, b = _walk(), 40, 100
    lo, hi = core(walk, a, b, FPS)
    still = np.repeat(walk[a : a + 1], hi - lo, axis=0)
    placed, slide = placed_in_span(still, walk, a, b, FPS)
    gone = float(np.linalg.norm(_ground(walk[b]) - _ground(walk[a - 1])))
    reach = span_edit.SEAM_SPEED * seam_frames(b - a, FPS) / FPS
    assert gone > 2 * reach  # a walk covers more in 3 s than two seams carry
    # the rest slides evenly across the new motion, and each seam carries the body as far as
    # easing from the walk's pace into the slide's covers (at SEAM_SPEED a 1.3 m/s walk
    # dipped to 0.6 in one frame at each seam: a new user's trial)
    steps = np.linalg.norm(np.diff(_ground(placed), axis=0), axis=-1)
    np.testing.assert_allclose(steps, slide / FPS, rtol=1e-6)
    unit = (_ground(walk[b]) - _ground(walk[a - 1])) / gone
    paces = edge_pace(walk[:a], FPS, end=True) @ unit, edge_pace(walk[b:], FPS, end=False) @ unit
    gap_s = (SEAM + 1) / FPS
    start = np.linalg.norm(_ground(placed[0]) - _ground(walk[a - 1]))
    end = np.linalg.norm(_ground(walk[b]) - _ground(placed[-1]))
    assert slide > 0 and start / gap_s > 0.5 * paces[0]  # on at the walk's pace, not stopping
    assert start * (paces[1] + slide) == pytest.approx(end * (paces[0] + slide))
    assert start + end + slide * (hi - lo - 1) / FPS == pytest.approx(gone)
    # a way the seams can walk is shared as their paces are, nothing slides
    monkeypatch.setattr(span_edit, "SEAM_SPEED", 100.0)
    near, slide = placed_in_span(still, walk, a, b, FPS)
    first = np.linalg.norm(_ground(near[0]) - _ground(walk[a - 1]))
    assert slide == 0.0 and first == pytest.approx(gone * paces[0] / sum(paces))
    assert np.ptp(_ground(near), axis=0).max() < 1e-9


def test_a_span_at_either_end_is_set_off_by_what_easing_from_the_walk_covers():
    # set where the one kept frame stands, a walk stopped dead at the span (1.15 -> 0.16 m/s
    # in one frame) or set off from it at full pace (a new user's trial)
    from motiongen.generation.timeline import edge_pace

    walk = _walk()
    n = len(walk)
    gap_s = (SEAM + 1) / FPS
    still = np.repeat(walk[:1], 40 - SEAM, axis=0)
    head, _ = placed_in_span(still, walk, 0, 40, FPS)
    ahead = 0.5 * edge_pace(walk[40:], FPS, end=False) * gap_s
    np.testing.assert_allclose(_ground(head[-1]), _ground(walk[40]) - ahead, atol=1e-9)
    tail, _ = placed_in_span(still, walk, n - 40, n, FPS)
    on = 0.5 * edge_pace(walk[: n - 40], FPS, end=True) * gap_s
    np.testing.assert_allclose(_ground(tail[0]), _ground(walk[n - 41]) + on, atol=1e-9)
    assert np.linalg.norm(on) > 0.1  # the synthetic walk's pace carries it on


def test_span_keyframes_give_everything_outside_and_free_the_seams():
    walk = _walk()
    n = len(walk)
    new = walk[46:94] + 1.0
    keys, starts = span_keyframes(walk, new, 40, 100, FPS)
    assert starts == [0, 40 + SEAM, 100] and [len(k) for k in keys] == [40, 48, n - 100]
    np.testing.assert_array_equal(keys[1], new)
    keys, starts = span_keyframes(walk, walk[:34], 0, 40, FPS)  # no seam before frame 0
    assert starts == [0, 40] and [len(k) for k in keys] == [34, n - 40]
    keys, starts = span_keyframes(walk, walk[:34], n - 40, n, FPS)  # none after the end
    assert starts == [0, n - 34] and [len(k) for k in keys] == [n - 40, 34]
    with pytest.raises(ValueError, match="core"):
        span_keyframes(walk, walk[:40], 40, 100, FPS)
    assert seam_frames(16, FPS) == 4  # a short span keeps half of itself


@pytest.fixture(scope="module")
def pipes(tmp_path_factory):
    return control_and_text_pipes(tmp_path_factory.mktemp("ck"))


def test_a_span_made_by_a_text_model_keeps_everything_outside(pipes, tmp_path, monkeypatch):
    control, text = pipes
    walk = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    # (this fake text model's legs flail above LEG_ACTION: here they would count as its action)
    monkeypatch.setattr(span_edit, "LEG_ACTION", 1e9)
    out = control.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0, segment_model=text)
    keep = np.r_[0:20, 50:80]
    np.testing.assert_allclose(out.positions[keep], walk.positions[keep], atol=1e-5)
    assert out.meta["task"] == "edit" and out.meta["segments_from"] == text.name
    assert out.texts == ["a person bows"] and np.isfinite(out.positions).all()
    # a slide the seams cannot carry is said; a fast one is stepped by the control model's legs
    slide, warning = out.meta["span_slide_mps"], out.meta.get("warning", "")
    steps = slide > span_edit.STEP_SLIDE
    assert ("stepping along" in warning) == steps
    assert ("slides along the ground" in warning) == (
        span_edit.SLIDE_WARNING < slide <= span_edit.STEP_SLIDE
    )
    assert out.meta["span_legs_from"] == (control.name if steps else text.name)
    assert not np.allclose(out.positions[20:50], walk.positions[20:50], atol=1e-2)
    # the caller's sampling goes to the text model; the seams keep the in-betweening's
    req = control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), segment_model=text,
                             guidance=3.5, steps=7)  # fmt: skip
    (part,), join = req.parts
    assert (part.guidance, part.steps, part.frames) == (3.5, 7, 30 - 2 * SEAM) and join.text is None
    assert join.steps == control.default_steps
    assert control.request_cost(req) == text.request_cost(part) + control.request_cost(join)
    # "self": the control model edits
    own = control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), segment_model="self")
    assert own.parts is None
    with pytest.raises(InputError, match="neither a shipped model"):
        control.check_edit(walk, text="a person bows", frames=(1.0, 2.5),
                           segment_model=str(tmp_path / "missing"))  # fmt: skip


@pytest.mark.parametrize("frames", [(0.0, 1.5), (2.5, 4.0)])
def test_a_span_at_either_end_of_the_motion_is_sewn_at_one_seam(pipes, frames):
    control, text = pipes
    walk = Motion(positions=_walk(4.0, seed=3), fps=FPS)
    out = control.edit(walk, text="a person waves", frames=frames, seed=1, segment_model=text)
    a, b = (int(round(x * FPS)) for x in frames)
    outside = np.r_[0:a, b:80]
    np.testing.assert_allclose(out.positions[outside], walk.positions[outside], atol=1e-5)
    assert out.num_frames == 80 and out.meta["segments_from"] == text.name
    raw = control.edit(walk, text="a person waves", frames=frames, seed=1, segment_model=text,
                       postprocess=False)  # fmt: skip
    np.testing.assert_allclose(raw.positions[outside], walk.positions[outside], atol=1e-5)


def test_a_span_edit_reports_like_a_plain_edit(pipes, monkeypatch):
    control, text = pipes
    walk = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    plain = control.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0)
    sewn = control.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0,
                        segment_model=text, literal=True)  # fmt: skip
    assert set(plain.meta) - set(sewn.meta) <= {"constrained_joint_frames"}
    assert sewn.meta.get("vocabulary") == plain.meta.get("vocabulary")
    assert sewn.labels["conditions"] == plain.labels["conditions"] == "text"
    req = control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), segment_model=text,
                             literal=True)  # fmt: skip
    assert req.parts[0][0].literal is True
    # the checkpoint's own default takes the same way; a broken default says where it came from
    conditioning = control.config.conditioning
    monkeypatch.setattr(conditioning, "tasks", {"edit": {"segment_model": text}})
    assert control.check_edit(walk, text="a person bows", frames=(1.0, 2.5)).parts is not None
    assert control.check_edit(walk, text="a person bows", joints=["legs"]).parts is None
    # arms alone: a raise's arms are the text model's, set on the body; other actions' (and
    # any without a vocabulary to tell, as this fake checkpoint) the control model's
    assert control.check_edit(walk, text="a person bows", joints=["arms"]).parts is None
    monkeypatch.setattr(type(control), "_raises", lambda self, text: True)
    arms = control.check_edit(walk, text="a person raises both hands", joints=["arms"])
    assert arms.edit_joints is not None and arms.parts is not None
    monkeypatch.undo()
    monkeypatch.setattr(conditioning, "tasks", {"edit": {"segment_model": text}})
    # a span the default text model cannot make is said to be the control model's
    short = control.edit(walk, text="a person bows", frames=(1.0, 1.5), seed=0)
    assert "under 1 s, so the control model makes it alone" in short.meta["warning"]
    whole = control.check_edit(walk, text="a person bows", frames=(0.0, 4.0))
    assert whole.meta["warning"].startswith("the edited span is the whole motion")
    own = control.check_edit(walk, text="a person bows", frames=(1.0, 1.5), segment_model="self")
    assert "warning" not in own.meta
    monkeypatch.setattr(conditioning, "tasks", {"edit": {"segment_model": "no-such-model"}})
    with pytest.raises(InputError, match=r"conditioning.tasks.edit.segment_model.*\"self\""):
        control.check_edit(walk, text="a person bows", frames=(1.0, 2.5))


def test_segment_model_is_refused_where_it_cannot_make_anything(pipes, tmp_path):
    control, text = pipes
    walk = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    with pytest.raises(InputError, match="an edit with joints other than the arms is made by"):
        control.check_edit(walk, text="a person bows", joints=["legs"], segment_model=text)
    for frames, why in (((1.0, 1.5), "a span under 1 s"), ((0.0, 4.0), "the whole motion")):
        with pytest.raises(InputError, match=f"an edit with {why} is made"):
            control.check_edit(walk, text="a person bows", frames=frames, segment_model=text)
    with pytest.raises(InputError, match="a style"):
        control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), segment_model=text,
                           style="happy")  # fmt: skip
    with pytest.raises(InputError, match="inbetween takes no segment_model"):
        control.check_inbetween(
            [walk.crop(0, 1), walk.crop(walk.num_frames - 1)], [0.0, 2.0], segment_model=text
        )
    textless = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "music", text_dim=0, text_model=None)
    )
    with pytest.raises(InputError, match="making an edit's span needs a text model"):
        control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), segment_model=textless)


def test_a_gliding_span_leaves_its_legs_to_the_control_model(pipes, monkeypatch):
    walk = _walk()
    targets = walk.copy()
    freed = span_edit.legs_freed(targets, 46, 94)
    legs = list(span_edit.BODY_PARTS["legs"])
    assert np.isnan(freed[46:94, legs]).all() and not np.isnan(freed[46:94, PELVIS]).any()
    assert not np.isnan(freed[:46]).any() and not np.isnan(freed[94:]).any()
    control, text = pipes
    motion = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    kw = dict(text="a person bows", frames=(1.0, 2.5), seed=0, segment_model=text)
    monkeypatch.setattr(span_edit, "STEP_SLIDE", -1.0)  # every span steps
    monkeypatch.setattr(span_edit, "LEG_ACTION", 1e9)  # no span's legs are its action
    stepped = control.edit(motion, **kw)
    monkeypatch.setattr(span_edit, "STEP_SLIDE", 1e9)  # none does
    glided = control.edit(motion, **kw)
    assert stepped.meta["span_legs_from"] == control.name
    assert glided.meta["span_legs_from"] == text.name
    assert "stepping along" not in glided.meta.get("warning", "")
    keep = np.r_[0:20, 50:80]
    np.testing.assert_allclose(stepped.positions[keep], motion.positions[keep], atol=1e-5)
    core = slice(26, 44)
    assert not np.allclose(stepped.positions[core][:, legs], glided.positions[core][:, legs])


def test_a_span_whose_legs_are_its_action_keeps_them(pipes, monkeypatch):
    kick = np.repeat(_walk()[:1], 40, axis=0)
    assert not span_edit.legs_act(kick, FPS)  # standing
    kick[15:25, RIGHT_ANKLE, 1] += 0.6  # kicked up
    assert span_edit.legs_act(kick, FPS)
    run = kick.copy()
    run[..., 2] += 3.0 * np.arange(40)[:, None] / FPS  # the same legs travelling 3 m/s: a run
    assert not span_edit.legs_act(run, FPS)
    control, text = pipes
    motion = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    kw = dict(text="a person kicks", frames=(1.0, 2.5), seed=0, segment_model=text)
    monkeypatch.setattr(span_edit, "STEP_SLIDE", -1.0)  # every span would step...
    monkeypatch.setattr(span_edit, "LEG_ACTION", -1.0)  # ...but its legs do the action
    monkeypatch.setattr("motiongen.tasks.pace.MOVING_SPEED", 1e9)  # (this fake model travels)
    kept = control.edit(motion, **kw)
    assert kept.meta["span_legs_from"] == text.name
    assert "its legs do the action, so they are kept as made" in kept.meta["warning"]


def test_an_edited_span_given_in_frame_numbers_is_told_it_is_in_seconds(pipes):
    # frames=(20, 50) read as a span 20..50 s of a 4 s walk: said so, and what it is in seconds
    control, _ = pipes
    walk = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    with pytest.raises(InputError, match=r"frames= is in seconds.*frames=\(1, 2\.5\)"):
        control.check_edit(walk, text="a person bows", frames=(20, 50))
    with pytest.raises(InputError, match=r"inside the motion's 0..4 s$"):  # seconds past the end
        control.check_edit(walk, text="a person bows", frames=(1.0, 9.0))
    # as the command line gives them, floats (--frames 40:70 had no hint: an animator's trial)
    with pytest.raises(InputError, match=r"frames= is in seconds.*frames=\(2, 3\.5\)"):
        control.check_edit(walk, text="a person bows", frames=(40.0, 70.0))


def test_an_edit_in_place_acts_where_the_span_starts_and_moves_the_rest_along(pipes):
    # a bow set in 3 s of a walk had to cover the walk's ground, sliding at 1 m/s (a trial)
    control, text = pipes
    walk = Motion(positions=_walk(4.0, seed=2), fps=FPS)
    out = control.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0, segment_model=text,
                       in_place=True)  # fmt: skip
    src, got = walk.positions.astype(np.float64), out.positions.astype(np.float64)
    np.testing.assert_allclose(got[:20], src[:20], atol=1e-5)  # before the span: as it was
    # after it: moved back by the span's travel, less what easing to a stop and back to the
    # walk's pace covers over each seam (moved back by all of it, the walk had stopped and
    # set off again within 0.1 s: an animator's trial)
    shift = (got[50:] - src[50:])[:, :, [0, 2]]
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-5)
    np.testing.assert_allclose(got[50:, :, 1], src[50:, :, 1], atol=1e-5)
    travel = np.linalg.norm(src[50, PELVIS, [0, 2]] - src[20, PELVIS, [0, 2]])
    seams = travel - np.linalg.norm(shift[0, PELVIS])  # the ground left to the seams
    pace = np.linalg.norm(src[51, PELVIS, [0, 2]] - src[49, PELVIS, [0, 2]]) * FPS / 2
    assert 0.5 * pace * 0.3 < seams < 2 * pace * 0.3 + 0.05  # about two 0.3 s easings
    assert out.meta["rest_moved_m"] == pytest.approx(np.linalg.norm(shift[0, PELVIS]), abs=1e-3)
    with pytest.raises(
        InputError, match="give a span of time \\(frames=, --frames\\) and no joints"
    ):
        control.check_edit(walk, text="a person waves", joints=["arms"], in_place=True)
    with pytest.raises(InputError, match="in_place must be true or false"):
        control.check_edit(walk, text="a person bows", frames=(1.0, 2.5), in_place="yes")
