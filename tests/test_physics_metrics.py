"""Physics metrics on hand-made motions with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.eval import physics as P
from motiongen.skeleton import LEFT_ANKLE, LEFT_FOOT, NUM_JOINTS, PELVIS, RIGHT_ANKLE, RIGHT_FOOT


def _standing(t: int, toe_height: float = 0.02) -> np.ndarray:
    pose = np.zeros((NUM_JOINTS, 3))
    pose[:, 1] = np.linspace(0.1, 1.6, NUM_JOINTS)
    pose[:, 0] = np.linspace(-0.2, 0.2, NUM_JOINTS)
    pose[[LEFT_ANKLE, RIGHT_ANKLE], 1] = 0.08
    pose[[LEFT_FOOT, RIGHT_FOOT], 1] = toe_height
    return np.repeat(pose[None], t, axis=0)


def test_planted_foot_does_not_skate_and_sliding_planted_foot_does():
    planted = _standing(40)
    assert P.foot_skating_ratio(planted, 20) == 0.0
    sliding = planted.copy()
    sliding[:, LEFT_FOOT, 0] += np.arange(40) / 20 * 1.0  # 1 m/s along the floor at 2 cm
    assert P.foot_skating_ratio(sliding, 20) == pytest.approx(1.0)
    slow = planted.copy()
    slow[:, LEFT_FOOT, 0] += np.arange(40) / 20 * 0.3  # under the 0.5 m/s limit
    assert P.foot_skating_ratio(slow, 20) == 0.0
    lifted = _standing(40, toe_height=0.2)
    lifted[:, LEFT_FOOT, 0] += np.arange(40) / 20 * 1.0  # fast but in the air: a swing
    assert P.foot_skating_ratio(lifted, 20) == 0.0


def test_pfc_known_answer_and_zero_for_planted_feet():
    t = np.arange(60) / 30.0
    p = _standing(60)
    p[:, PELVIS, 0] += 0.5 * 2.0 * t**2  # constant horizontal root acceleration: â = 1
    assert P.physical_foot_contact(p, 30) == pytest.approx(0.0)  # feet planted
    v_left, v_right = 0.01, 0.02  # m per 30-fps frame of the slower joint of each foot
    p[:, LEFT_ANKLE, 0] += v_left * np.arange(60)
    p[:, LEFT_FOOT, 0] += 2 * v_left * np.arange(60)
    p[:, RIGHT_ANKLE, 2] += 3 * v_right * np.arange(60)
    p[:, RIGHT_FOOT, 2] += v_right * np.arange(60)
    assert P.physical_foot_contact(p, 30) == pytest.approx(1e4 * v_left * v_right, rel=1e-6)


def test_pfc_clamps_downward_root_acceleration():
    t = np.arange(40) / 30.0
    p = _standing(40)
    p[:, PELVIS, 1] -= 0.5 * 9.81 * t**2  # free fall: vertical part clamped to 0
    p[:, [LEFT_ANKLE, LEFT_FOOT, RIGHT_ANKLE, RIGHT_FOOT], 0] += 0.05 * np.arange(40)[:, None]
    assert P.physical_foot_contact(p, 30) == 0.0


def test_velocity_acceleration_jerk_known_answers():
    t = np.arange(41) / 20.0
    p = _standing(41)
    p[..., 0] += 2.0 * t[:, None]  # every joint at 2 m/s
    v = P.velocity_stats(p, 20)
    assert v["max"] == pytest.approx(2.0) and v["mean"] == pytest.approx(2.0)
    assert v["over_share"] == 0.0
    assert P.acceleration_stats(p, 20)["max"] == pytest.approx(0.0, abs=1e-9)
    cubic = _standing(41)
    cubic[..., 2] += 3.0 * t[:, None] ** 3  # jerk = 18 m/s³ everywhere
    assert P.jerk(cubic, 20) == pytest.approx(18.0, rel=1e-6)
    fast = _standing(41)
    fast[..., 0] += 20.0 * t[:, None]
    assert P.velocity_stats(fast, 20)["over_share"] == 1.0


def test_rates_do_not_depend_on_input_fps():
    m20 = synth_motion("run", "normal", 3.0, fps=20, seed=1)
    m60 = synth_motion("run", "normal", 3.0, fps=60, seed=1)
    a = P.physics_report(m20.positions, 20)
    b = P.physics_report(m60.positions, 60)
    assert a["max_speed_mps"] == pytest.approx(b["max_speed_mps"], rel=0.1)
    assert a["mean_speed_mps"] == pytest.approx(b["mean_speed_mps"], rel=0.05)


def test_report_keys_and_bad_input():
    rep = P.physics_report(_standing(30), 20)
    assert set(rep) >= {"foot_skating_ratio", "pfc", "jerk_mps3", "bone_length_drift"}
    assert rep["bone_length_drift"] == pytest.approx(0.0, abs=1e-9)
    bad = _standing(30)
    bad[3, 2, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        P.physics_report(bad, 20)
    with pytest.raises(InputError, match="22"):
        P.physics_report(np.zeros((10, 21, 3)), 20)
