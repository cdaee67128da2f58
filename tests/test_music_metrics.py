"""Music metrics: known answers on beat times, and a click track with a motion that pauses on
its beats against the same motion half a beat late."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motiongen.errors import InputError
from motiongen.eval import music as M
from motiongen.eval.sanity import MusicalityScorer
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import NUM_JOINTS

SR = 22050
PERIOD = 0.5  # 120 BPM
FIRST_BEAT = 0.5


@pytest.fixture(scope="module")
def click_track(tmp_path_factory) -> Path:
    """10 s of 1 kHz clicks (30 ms, fast decay) on every beat from 0.5 s."""
    y = np.zeros(int(SR * 10.0), np.float32)
    n = int(0.03 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.005 * SR))
    for b in np.arange(FIRST_BEAT, 9.8, PERIOD):
        i = int(round(b * SR))
        y[i : i + n] += 0.8 * click.astype(np.float32)
    path = tmp_path_factory.mktemp("audio") / "click.wav"
    sf.write(path, y, SR)
    return path


def _pausing_motion(shift: float, seconds: float = 10.0, fps: float = 20.0) -> Motion:
    """Arms-and-all sway along X whose speed falls to its minimum at FIRST_BEAT + k·PERIOD + shift,
    over a slow walk along Z (so the minima are pauses of a moving body, not rests)."""
    t = np.arange(int(seconds * fps)) / fps
    pose = np.zeros((NUM_JOINTS, 3))
    pose[:, 1] = np.linspace(0.05, 1.6, NUM_JOINTS)
    p = np.repeat(pose[None], len(t), axis=0)
    p[:, :, 0] += 0.3 * np.cos(np.pi * (t - FIRST_BEAT - shift) / PERIOD)[:, None]
    p[:, :, 2] += 0.3 * t[:, None]
    return Motion(p, fps, name=f"sway+{shift:g}")


def test_bas_known_answers_and_directions():
    music = np.array([1.0, 2.0, 3.0, 4.0])
    assert M.beat_align_score(music, music) == pytest.approx(1.0)
    d = 0.05
    assert M.beat_align_score(music + d, music, sigma=0.05) == pytest.approx(np.exp(-0.5))
    # extra motion beats between the music beats: every music beat is still matched ...
    motion = np.sort(np.concatenate([music, music + 0.5]))
    assert M.beat_align_score(motion, music, direction="music") == pytest.approx(1.0)
    # ... but half the motion beats are off the beat
    assert M.beat_align_score(motion, music, direction="motion") == pytest.approx(0.5, abs=1e-6)
    assert M.beat_align_score(np.array([]), music) == 0.0
    with pytest.raises(InputError):
        M.beat_align_score(music, music, direction="sideways")


def test_local_minima_counts_flat_bottoms_once():
    x = np.array([3.0, 2.0, 1.0, 1.0, 2.0, 3.0, 2.0, 0.5, 2.0])
    assert M.local_minima(x).tolist() == [2, 7]
    assert M.local_minima(x, order=5).tolist() == [7]


def test_kinematic_beats_sit_at_the_speed_dips():
    m = _pausing_motion(0.0)
    beats = M.kinematic_beats(m.positions, m.fps)
    expected = np.arange(FIRST_BEAT, 9.6, PERIOD)
    gap = np.abs(beats[:, None] - expected[None]).min(axis=1)
    assert len(beats) == len(expected)
    assert gap.max() < 0.02


def test_motion_on_the_beats_scores_higher_than_half_a_beat_late(click_track):
    scorer = MusicalityScorer()
    on = scorer.score(_pausing_motion(0.0), click_track)
    off = scorer.score(_pausing_motion(PERIOD / 2), click_track)
    assert on["music_beats"] >= 15 and on["tempo_bpm"] == pytest.approx(120, rel=0.02)
    assert on["bas_music"] > 0.8 and off["bas_music"] < 0.1
    assert on["bas_motion"] > 0.8 and off["bas_motion"] < 0.1
    assert on["beat_consistency"] > off["beat_consistency"] + 0.1
    assert on["musicality"] > off["musicality"] + 0.4
    assert 0.0 <= off["musicality"] <= on["musicality"] <= 1.0
    # pausing on the onsets means low speed at the onsets: a negative frame-level correlation
    assert on["energy_onset_r0"] < 0 < off["energy_onset_r0"]


def test_energy_onset_correlation_finds_a_lag():
    m = _pausing_motion(0.0, seconds=4.0)
    energy = np.linalg.norm(
        np.gradient(m.positions.astype(float), 1 / m.fps, axis=0), axis=-1
    ).mean(1)
    r, lag, r0 = M.energy_onset_correlation(m.positions, m.fps, energy)
    assert r == pytest.approx(1.0) and lag == 0.0 and r0 == pytest.approx(1.0)
    early = np.roll(energy, -2)  # the sound comes 2 frames (0.1 s) before the motion
    r, lag, _ = M.energy_onset_correlation(m.positions, m.fps, early)
    assert lag == pytest.approx(0.1) and r > 0.99
    with pytest.raises(InputError, match="frames"):
        M.energy_onset_correlation(m.positions, m.fps, energy[:-1])


def test_beat_consistency_on_known_onsets():
    m = _pausing_motion(0.0, seconds=6.0)
    onsets = np.arange(FIRST_BEAT, 5.6, PERIOD)
    on = M.beat_consistency(m.positions, m.fps, onsets)
    off = M.beat_consistency(m.positions, m.fps, onsets + PERIOD / 2)
    assert on > 0.95 and off < on
    assert M.beat_consistency(m.positions, m.fps, np.array([])) == 0.0


def test_audio_shorter_than_motion_names_both_durations(click_track, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, sf.read(click_track)[0][: 3 * SR], SR)
    with pytest.raises(InputError, match=r"3\.00 s .* 10\.00 s"):
        MusicalityScorer().score(_pausing_motion(0.0), short)
    with pytest.raises(InputError, match="no audio"):
        MusicalityScorer().score(_pausing_motion(0.0))
    late = _pausing_motion(0.0, seconds=4.0).copy(audio=AudioRef(str(click_track), offset=8.0))
    with pytest.raises(InputError, match="after offset 8.00 s"):
        MusicalityScorer().score(late)


def test_dance_music_agreement_prefers_the_music_s_own_tempo():
    from motiongen.eval.music import dance_music_agreement, periodicity_profile

    fps, seconds = 20.0, 12.0
    t = np.arange(int(seconds * fps)) / fps
    pos = np.zeros((len(t), 22, 3))
    pos[..., 1] = np.linspace(0.05, 1.6, 22)[None]
    # the arms and legs swing at 2 Hz (120 accents a minute)
    pos[:, 12:, 0] += 0.2 * np.sin(2 * np.pi * 2.0 * t)[:, None]

    def clicks(hz: float) -> np.ndarray:
        onset = np.zeros(len(t))
        onset[(np.arange(0, seconds, 1 / hz) * fps).astype(int)] = 1.0
        return onset

    own = dance_music_agreement(pos, fps, clicks(2.0), fps)
    other = dance_music_agreement(pos, fps, clicks(2.9), fps)
    assert own.agreement > other.agreement + 0.2
    assert own.margin > 0 > other.margin or own.margin > other.margin
    assert len(own.stretched) == 6 and 0 <= own.agreement <= 1
    # a flat signal has no periodicity at all
    assert not periodicity_profile(np.ones(100), fps, np.array([1.0, 2.0])).any()
    with pytest.raises(InputError, match="at least 2 s"):
        dance_music_agreement(pos[:20], fps, clicks(2.0)[:20], fps)
