"""The safety critic (``SanityChecker``: pass/fail with reasons and severities, SPEC §9) and the
``MusicalityScorer`` (music metrics plus one combined score).

Checks and severities (SPEC §9; values from ``motiongen.artifacts``):

| check       | raised when                                            | severity |
|-------------|--------------------------------------------------------|----------|
| invalid     | NaN/inf, not (T, 22, 3), no frames, bad fps            | 1.0      |
| frozen      | > 80 % of 20-fps frames static (fastest joint < 0.1 m/s) | 0.9    |
| explosion   | speed-spike robust z > 3 (a teleport)                  | 0.9      |
| overspeed   | any joint faster than 15 m/s                           | 0.8      |
| repetitive  | repetition score > 0.99 (a near-exact loop)            | 0.7      |
| jittery     | jitter > 0.3                                           | 0.6      |
| penetration | lowest point more than 0.1 m below the floor           | 0.6      |
| sliding     | sliding ratio > 0.55 (real clips: 0.37 at most)         | 0.6      |

A motion passes when no raised check has severity ≥ ``fail_severity`` (0.5: every check).
Foot skating above ``SKATING_LIMIT`` without sliding above it (a low swing, a dragged toe) is
only a warning.
Repetition above the artifact threshold 0.7 but ≤ 0.99 is only a warning: real gait and
waving score up to 0.979 (20-36 % of real Bandai clips exceed 0.7), so the SPEC threshold
would fail real data; a generator stuck in a loop repeats itself almost exactly (≈ 1.0).
Calibration on the real data: ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen import artifacts as A
from motiongen.errors import InputError
from motiongen.eval import music as M
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import NUM_JOINTS

REPETITION_FAIL = 0.99  # above every real clip (max 0.979), below an exact loop (≈ 1.0)
SLIDING_LIMIT = A.SKATING_LIMIT
# Mean height of the lowest joint over the frames: real clips reach 0.055 m at most (a run of
# long flight phases; all 2,789 prepared clips), a figure left hanging in the air 0.4 m.
FLOATING_LIMIT = 0.15

SEVERITY: dict[str, float] = {
    "invalid": 1.0,
    "frozen": 0.9,
    "explosion": 0.9,
    "overspeed": 0.8,
    "repetitive": 0.7,
    "jittery": 0.6,
    "penetration": 0.6,
    "sliding": 0.6,
    "floating": 0.6,
}


@dataclass
class SanityResult:
    """Outcome of ``SanityChecker.check``.

    passed: no raised check reaches the checker's ``fail_severity``.
    reasons: one line per raised check, most severe first, e.g. "frozen: 100% of frames static
        (limit 80%)".
    severity: largest severity among raised checks (0.0 when none).
    checks: per check {"value", "limit", "raised", "severity"} (severity 0 when not raised).
    warnings: notes that do not fail the motion (e.g. periodic but not looped).
    """

    passed: bool
    reasons: list[str]
    severity: float
    checks: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _invalid(reason: str) -> SanityResult:
    return SanityResult(
        passed=False,
        reasons=[f"invalid: {reason}"],
        severity=SEVERITY["invalid"],
        checks={"invalid": {"value": 1.0, "limit": 0.0, "raised": True, "severity": 1.0}},
    )


class SanityChecker:
    """Pass/fail safety critic for one motion (see the module docstring for the checks).

    fail_severity: raised checks at or above this severity fail the motion (default 0.5,
        i.e. all of them); e.g. 0.65 lets jitter and penetration through as reasons only.
    """

    def __init__(self, *, fail_severity: float = 0.5, repetition_fail: float = REPETITION_FAIL):
        self.fail_severity = float(fail_severity)
        self.repetition_fail = float(repetition_fail)

    def check(self, motion: Motion | np.ndarray, fps: float | None = None) -> SanityResult:
        """Check a ``Motion`` or raw positions (T, 22, 3) with their ``fps``.

        Malformed input (NaN, wrong joint count, no frames) is not raised but returned as a
        failed result with the "invalid" check, so a batch of generated motions can be scored
        without one bad sample stopping the loop.
        """
        if isinstance(motion, Motion):
            positions, fps = motion.positions, motion.fps
        else:
            positions = motion
            if fps is None:
                raise InputError("fps is required when checking raw positions")
        pos = np.asarray(positions)
        if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3):
            return _invalid(
                f"positions have shape {tuple(pos.shape)}, expected (T, {NUM_JOINTS}, 3)"
            )
        if pos.shape[0] < 1:
            return _invalid("the motion has no frames")
        if not np.issubdtype(pos.dtype, np.number) or not np.isfinite(pos).all():
            bad = int((~np.isfinite(pos.astype(np.float64))).any(axis=(1, 2)).sum())
            return _invalid(f"{bad} frame(s) contain NaN or infinite values")
        if not (fps is not None and math.isfinite(fps) and fps > 0):
            return _invalid(f"frame rate must be positive, got {fps!r}")

        rep = A.artifact_report(pos, fps)
        values = {
            "frozen": (rep.static_share, A.STATIC_SHARE, rep.static),
            "explosion": (rep.explosion, A.EXPLOSION_Z, rep.exploding),
            "overspeed": (rep.max_speed, A.OVERSPEED, rep.overspeed),
            "repetitive": (
                rep.repetition,
                self.repetition_fail,
                rep.repetition > self.repetition_fail,
            ),
            "jittery": (rep.jitter, A.JITTER_THRESHOLD, rep.jittery),
            "penetration": (rep.penetration, A.PENETRATION_LIMIT, rep.penetrating),
            "sliding": (rep.sliding, SLIDING_LIMIT, rep.sliding > SLIDING_LIMIT),
            "floating": (rep.floating, FLOATING_LIMIT, rep.floating > FLOATING_LIMIT),
        }
        checks: dict[str, dict[str, Any]] = {}
        raised: list[tuple[float, str]] = []
        for name, (value, limit, flag) in values.items():
            sev = SEVERITY[name] if flag else 0.0
            checks[name] = {
                "value": float(value),
                "limit": float(limit),
                "raised": bool(flag),
                "severity": sev,
            }
            if flag:
                raised.append((sev, f"{name}: {_describe(name, value, limit, rep)}"))
        warnings = []
        if not values["repetitive"][2] and rep.repetition > A.REPETITION_THRESHOLD:
            warnings.append(
                f"periodic: repetition {rep.repetition:.3f} at a {rep.repetition_lag / A.ANALYSIS_FPS:.2f} s "
                f"lag (> {A.REPETITION_THRESHOLD:g}; real gait reaches 0.98, a loop fails above "
                f"{self.repetition_fail:g})"
            )
        if not values["sliding"][2] and rep.foot_skating > A.SKATING_LIMIT:
            # The generators' own warnings (restyle, in-betweening) read this measure: without a
            # note here a user is told "the feet slide" and then "sanity passed" (helper trial).
            warnings.append(
                f"skating: a toe moves along the floor in {rep.foot_skating:.0%} of frames (few "
                f"real clips pass {A.SKATING_LIMIT:.0%}), with no foot planted in "
                f"{rep.sliding:.0%}: a low swing or a dragged toe, not failed as sliding"
            )
        raised.sort(key=lambda r: -r[0])
        severity = raised[0][0] if raised else 0.0
        failing = [r for r in raised if r[0] >= self.fail_severity]
        return SanityResult(
            passed=not failing,
            reasons=[r[1] for r in raised],
            severity=float(severity),
            checks=checks,
            warnings=warnings,
        )


def _describe(name: str, value: float, limit: float, rep: A.ArtifactReport) -> str:
    if name == "frozen":
        return f"{value:.0%} of frames static (limit {limit:.0%})"
    if name == "explosion":
        return f"a joint's speed jumps by {rep.max_speed_spike:.1f} m/s within a frame (z {value:.1f} > {limit:g})"
    if name == "overspeed":
        return f"a joint moves at {value:.1f} m/s (limit {limit:g} m/s)"
    if name == "repetitive":
        return (
            f"the motion loops every {rep.repetition_lag / A.ANALYSIS_FPS:.2f} s "
            f"(repetition {value:.3f} > {limit:g})"
        )
    if name == "jittery":
        return f"high-frequency jitter {value:.2f} (limit {limit:g})"
    if name == "sliding":
        return (
            f"a toe slides with no foot planted in {value:.0%} of frames (limit {limit:.0%}, "
            "real motion)"
        )
    if name == "floating":
        return (
            f"the lowest joint is {value:.2f} m above the floor on average (limit {limit:g} m; "
            "real clips 0.06 m at most)"
        )
    return f"{value:.2f} m below the floor (limit {limit:g} m)"


# ---- musicality -------------------------------------------------------------------------------
MUSIC_TERMS = ("bas_music", "bas_motion", "beat_consistency")  # averaged into musicality


class MusicalityScorer:
    """Music metrics of one motion against its audio, and one combined score in [0, 1].

    ``score`` returns a dict: bas_music and bas_motion (Beat Align Score over music beats /
    over motion beats, σ 0.05 s), beat_consistency (PantoMatrix BC, σ 0.3 s),
    energy_onset_r (Pearson r of mean joint speed vs onset strength at the best lag within
    ±0.1 s), energy_onset_lag_s, energy_onset_r0 (lag 0), the beat/onset counts, tempo, and
    ``musicality`` = mean of bas_music, bas_motion and beat_consistency (each in [0, 1],
    higher = motion accents on the beats).

    The energy-onset correlation is reported but not part of ``musicality``: its sign does
    not say better or worse. A dancer who pauses on every beat (a kinematic beat, the very
    thing BAS rewards) has low speed where onsets peak, so r < 0; the same motion half a beat
    late has r > 0.
    """

    def __init__(self, *, bas_sigma: float = M.BAS_SIGMA_S, bc_sigma: float = M.BC_SIGMA_S):
        self.bas_sigma = bas_sigma
        self.bc_sigma = bc_sigma

    def score(
        self,
        motion: Motion,
        audio: str | Path | AudioRef | None = None,
    ) -> dict[str, Any]:
        """Score ``motion`` against ``audio`` (a path played from 0 s, an AudioRef, or None for
        ``motion.audio``). Raises InputError when there is no audio or the audio after its
        offset is shorter than the motion (the message names both durations)."""
        from motiongen.io.audio import audio_duration, load_audio

        ref = (
            audio
            if isinstance(audio, AudioRef)
            else (AudioRef(str(audio)) if audio else motion.audio)
        )
        if ref is None:
            label = f"motion {motion.name}" if motion.name else "the motion"
            raise InputError(f"{label} has no audio; give an audio file (--music AUDIO)")
        total = audio_duration(ref.path)
        available = total - ref.offset
        # half a frame of slack: the motion's last frame is a sample, not an interval
        if available < motion.seconds - 0.5 / motion.fps:
            raise InputError(
                f"audio {Path(ref.path).name} has {max(available, 0.0):.2f} s after offset "
                f"{ref.offset:.2f} s but the motion lasts {motion.seconds:.2f} s; give a longer "
                "audio file or crop the motion to the audio"
            )
        y, sr = load_audio(
            ref.path, sr=22050, offset=ref.offset, duration=min(motion.seconds, available)
        )
        return self.score_signal(motion.positions, motion.fps, y, sr)

    def score_signal(
        self, positions: np.ndarray, fps: float, y: np.ndarray, sr: int
    ) -> dict[str, Any]:
        """As ``score`` on positions (T, 22, 3) and samples ``y`` that start at motion frame 0."""
        music = M.analyse_music(y, sr, fps, num_frames=int(np.asarray(positions).shape[0]))
        motion_beats = M.kinematic_beats(positions, fps)
        r_best, lag, r0 = M.energy_onset_correlation(positions, fps, music.onset_strength)
        out: dict[str, Any] = {
            "bas_music": M.beat_align_score(
                motion_beats, music.beat_times, sigma=self.bas_sigma, direction="music"
            ),
            "bas_motion": M.beat_align_score(
                motion_beats, music.beat_times, sigma=self.bas_sigma, direction="motion"
            ),
            "beat_consistency": M.beat_consistency(
                positions, fps, music.onset_times, sigma=self.bc_sigma
            ),
            "energy_onset_r": r_best,
            "energy_onset_lag_s": lag,
            "energy_onset_r0": r0,
            "music_beats": int(music.beat_times.size),
            "motion_beats": int(motion_beats.size),
            "onsets": int(music.onset_times.size),
            "tempo_bpm": music.tempo_bpm,
        }
        out["musicality"] = float(np.mean([out[k] for k in MUSIC_TERMS]))
        n = int(np.asarray(positions).shape[0])
        if n / fps >= 2.0:  # periodicities need a few seconds
            agreement = M.dance_music_agreement(positions, fps, music.onset_strength, fps)
            out["dance_agreement"] = agreement.agreement
            out["tempo_margin"] = agreement.margin
        else:
            out["dance_agreement"] = out["tempo_margin"] = float("nan")
        return out
