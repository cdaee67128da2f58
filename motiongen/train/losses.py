"""Training losses: the flow / diffusion regression plus physical terms on joint positions.

    total = recon * L_process + sum_k w_k * mean_b( a(t_b) * L_k(b) )

- ``L_process``: the flow-matching velocity MSE or the DDPM epsilon MSE (over real frames).
- The auxiliary terms L_k look at the network's estimate of the clean motion: for flow
  ``x1_hat = predict_x1(x_t, t, v)`` (= x_t + (1 - t) v), for DDPM
  ``x0_hat = (x_n - sqrt(1 - abar_n) eps_hat) / sqrt(abar_n)``. Both are denormalised and
  turned into joint positions (B, T, 22, 3) with the differentiable inverse
  ``features_to_positions_torch``, and so are the data:
  * velocity: squared error of joint velocities (frame differences x fps, m/s) against the
    data's, averaged over joints and frame pairs inside the clip;
  * foot_contact: squared horizontal speed (m/s) of every foot joint whose contact flag is
    set in the data, over those frames: planted feet must not slide;
  * bone_length: squared error of the 21 bone lengths against the data's, in decimetres
    (so a 3 cm error counts 0.09, the size of the other terms late in training);
  * foot_height: squared error of the heel and toe heights against the data's where the
    data's are in swing (above 5 cm), in decimetres (off by default; for students whose
    swing arcs come out flat).
  * pace: squared error of each joint's mean speed over the window (m/s) against the data's,
    averaged over joints (off by default). A per-frame error lets a sample whose stride is a
    little out of phase win by shortening it: the few-step students walk and run at 0.76 /
    0.89 of real pace (docs/training.md); a window's mean speed does not care about phase.
  * ground_pace: the same for the pelvis's speed over the ground alone (off by default): the
    pace the students lose is the body's travel, and every joint's speed also pushed the
    standing motions' arms (docs/training.md).
- real_arm_pace (``Rollout`` only, off by default): the squared error of the wrists' mean
  speed about the pelvis, measured over 0.2 s displacements (``arm_speed``), of the student's
  few-step sample against the real window its pair's conditions came from: the teacher's
  waves are slower than the student's (docs/training.md), so this statistic is matched to
  the data, not to the teacher. A 0.2 s displacement cancels a shake at 5 and 10 Hz exactly
  but counts one at 7.5 Hz in full (a review), so a run with it is checked for shaking
  hands (``eval.contracts.wrist_speed`` smooths first; ``benchmarks/raw_jitter.py``).
- a(t) = t^p for flow (t = 1 is data) and abar_n^(2p) for DDPM (abar = the signal
  fraction), p = ``aux_time_power``: far from the data the estimate is a blurry mean whose
  positions say nothing useful and whose gradients are noisy, so the terms act near the data
  only. The DDPM exponent is doubled because x0_hat's error is sqrt((1 - abar) / abar) times
  the epsilon error: with abar^2 the effective weight on the squared epsilon error is
  abar (1 - abar), which vanishes at both ends as flow's t (1 - t)^2 does (x1_hat's error is
  (1 - t) times the velocity error), instead of staying at 1 at high noise.

SPEC §1's weights (pretrain/SFT): reconstruction 1.0/1.0 -> ``recon``; temporal smoothness
0.1/0.1 -> ``velocity``; physics consistency 0.2/0.25 -> ``foot_contact`` + ``bone_length``;
action prediction 0.15/0.2 has no counterpart (no action head: actions come in as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from motiongen.features import CONTACTS, features_to_positions_torch
from motiongen.generative.flow import ModelFn, masked_mse
from motiongen.generative.process import Process
from motiongen.skeleton import BONES, FOOT_JOINTS, LEFT_WRIST, PELVIS, RIGHT_WRIST
from motiongen.train.config import LossConfig

_CHILD = [c for c, _ in BONES]
_PARENT = [p for _, p in BONES]
_FEET = list(FOOT_JOINTS)
SWING_HEIGHT = 0.05  # m: a heel or toe above this is in swing (the skating metric's contact)
ARM_SPAN = 4  # frames (0.2 s at 20 fps) of the wrists' displacements in ``arm_speed``


@dataclass
class LossTerms:
    """Scalars: total (what is minimised) and each unweighted term, for logging."""

    total: Tensor
    recon: Tensor
    velocity: Tensor
    foot_contact: Tensor
    bone_length: Tensor
    foot_height: Tensor
    pace: Tensor
    ground_pace: Tensor
    foot_clearance: Tensor
    rollout: Tensor  # the few-step sample's loss (``Rollout``), 0 without one
    real_arm_pace: Tensor  # the rollout's (unweighted), 0 without a rollout or real windows

    def as_floats(self) -> dict[str, float]:
        return {k: float(v.detach()) for k, v in self.__dict__.items()}


# The position terms of ``position_terms``, each weighted by the LossConfig field of its name.
AUX_TERMS = (
    "velocity",
    "foot_contact",
    "bone_length",
    "foot_height",
    "pace",
    "ground_pace",
    "foot_clearance",
)


def arm_speed(p: Tensor, mask: Tensor | None, fps: float) -> Tensor:
    """(B, 2) each wrist's mean speed about the pelvis, m/s, over ``ARM_SPAN``-frame
    displacements inside the real frames; p (B, T, 22, 3) metres, mask (B, T) or None.
    Not ``eval.contracts.wrist_speed``, which smooths the paths instead: this is the measure
    the rollout run of 2026-12-07 (docs/training.md) was trained with, kept so its command
    makes it again."""
    B, T = p.shape[:2]
    rel = p[:, :, [LEFT_WRIST, RIGHT_WRIST]] - p[:, :, [PELVIS]]
    k = min(ARM_SPAN, T - 1)
    if k < 1:
        return rel.new_zeros(B, 2)
    step = (rel[:, k:] - rel[:, :-k]).norm(dim=-1) * (fps / k)  # (B, T-k, 2)
    if mask is None:
        return step.mean(1)
    w = (mask[:, k:] & mask[:, :-k])[..., None].to(p.dtype)
    return (step * w).sum(1) / w.sum(1).clamp_min(1.0)


def _masked_mean(err: Tensor, mask: Tensor) -> Tensor:
    """Per-sample mean of err (B, N) over mask (B, N) -> (B,); 0 where nothing is masked in."""
    m = mask.to(err.dtype)
    return (err * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)


def position_terms(
    pred_pos: Tensor, true_pos: Tensor, contacts: Tensor, mask: Tensor | None, fps: float
) -> dict[str, Tensor]:
    """Per-sample auxiliary terms (B,) from positions.

    pred_pos, true_pos: (B, T, 22, 3) metres; contacts: (B, T, 4) bool data contact flags in
    ``FOOT_JOINTS`` order; mask: (B, T) bool real frames (None = all).
    """
    B, T = pred_pos.shape[:2]
    if mask is None:
        mask = torch.ones(B, T, dtype=torch.bool, device=pred_pos.device)
    pair = mask[:, 1:] & mask[:, :-1]  # (B, T-1): both ends of the step are real
    v_pred = (pred_pos[:, 1:] - pred_pos[:, :-1]) * fps  # (B, T-1, 22, 3) m/s
    v_true = (true_pos[:, 1:] - true_pos[:, :-1]) * fps
    velocity = _masked_mean(((v_pred - v_true) ** 2).sum(-1).mean(-1), pair)

    foot_speed2 = (v_pred[:, :, _FEET][..., [0, 2]] ** 2).sum(-1)  # (B, T-1, 4)
    planted = contacts[:, :-1] & pair[..., None]  # (B, T-1, 4)
    foot = _masked_mean(foot_speed2.flatten(1), planted.flatten(1))

    def lengths(p: Tensor) -> Tensor:  # (B, T, 21) decimetres
        return (p[:, :, _CHILD] - p[:, :, _PARENT]).norm(dim=-1) * 10.0

    bone = _masked_mean(((lengths(pred_pos) - lengths(true_pos)) ** 2).mean(-1), mask)
    # heel and toe heights in the data's swing (above 5 cm), decimetres: a swing arc averaged
    # flat leaves the toe skimming the floor; over all frames, most of them stance, the error
    # was 6 mm RMS and a fine-tune on it did not lift the swing
    lift = ((pred_pos[:, :, _FEET, 1] - true_pos[:, :, _FEET, 1]) * 10.0) ** 2  # (B, T, 4)
    swing = (true_pos[:, :, _FEET, 1] > SWING_HEIGHT) & mask[..., None]
    height = _masked_mean(lift.flatten(1), swing.flatten(1))

    def mean_speed(v: Tensor) -> Tensor:  # (B, T-1, 22, 3) -> (B, 22) over the real steps
        w = pair[..., None].to(v.dtype)
        return (v.norm(dim=-1) * w).sum(1) / w.sum(1).clamp_min(1.0)

    pace = ((mean_speed(v_pred) - mean_speed(v_true)) ** 2).mean(-1)
    ground = (v_pred[:, :, [PELVIS]][..., [0, 2]], v_true[:, :, [PELVIS]][..., [0, 2]])
    ground_pace = ((mean_speed(ground[0]) - mean_speed(ground[1])) ** 2)[:, 0]

    def rms_height(p: Tensor) -> Tensor:  # (B, T, 22, 3) -> (B, 4) decimetres over real frames
        # above the window's own floor (the 10th percentile of the lowest foot's height over
        # the real frames): a raw sample whose stance floats a few centimetres matched an RMS
        # measured from y = 0 without lifting its swing (a first run: toes 3 mm lower)
        h = p[:, :, _FEET, 1] * 10.0  # (B, T, 4)
        lowest = h.min(-1).values.masked_fill(~mask, float("inf"))  # (B, T)
        n = mask.sum(1).clamp_min(1)
        floor = lowest.sort(1).values.gather(1, ((n - 1) // 10)[:, None])  # (B, 1)
        w = mask[..., None].to(p.dtype)
        h2 = (h - floor[..., None]) ** 2
        return ((h2 * w).sum(1) / w.sum(1).clamp_min(1.0) + 1e-6).sqrt()

    clearance = ((rms_height(pred_pos) - rms_height(true_pos)) ** 2).mean(-1)
    return {
        "velocity": velocity,
        "foot_contact": foot,
        "bone_length": bone,
        "foot_height": height,
        "pace": pace,
        "ground_pace": ground_pace,
        "foot_clearance": clearance,
    }


@dataclass(frozen=True)
class Rollout:
    """A loss on the model's own sample: ``steps`` Euler steps from the given noise, with
    gradients through every step, against the target x (its feature MSE plus the position
    terms at full weight), on the first ``windows`` samples, times ``weight``. For reflow
    students: their per-step velocity fit is close, yet the few-step path flattens the
    swing arcs the teacher's samples have (docs/training.md "Swing arcs")."""

    weight: float
    steps: int
    windows: int


class TrainingLoss:
    """The full training loss of one process (flow or DDPM) with weights from ``LossConfig``.

    mean, std: (D,) normalisation stats as tensors (the network works on normalised features).
    """

    def __init__(
        self,
        process: Process,
        weights: LossConfig,
        mean: Tensor,
        std: Tensor,
        *,
        fps: float,
        rollout: Rollout | None = None,
    ) -> None:
        self.process = process
        self.rollout = rollout if rollout is not None and rollout.weight > 0 else None
        self.weights = weights
        self.mean = mean
        self.std = std
        self.fps = fps

    @property
    def uses_positions(self) -> bool:
        w = self.weights
        return any(getattr(w, name) != 0.0 for name in AUX_TERMS)

    def __call__(
        self,
        model_fn: ModelFn,
        x: Tensor,
        cond: Any,
        mask: Tensor | None,
        *,
        generator: torch.Generator | None = None,
        noise: Tensor | None = None,
        real: Tensor | None = None,
    ) -> LossTerms:
        """x: (B, T, D) normalised data; mask (B, T) bool. Times (and the noise, unless given:
        a reflow pair brings its own) from ``generator``. The rollout term needs given noise
        (a pair's: its x is where that noise leads); ``real`` (B, T, D), a pair's real
        windows, normalised, for its ``real_arm_pace``."""
        given_noise = noise is not None
        if noise is None:
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        pair = self.process.training_pair(x, noise, generator=generator)
        pred = model_fn(pair.xt, pair.t, cond, mask)
        recon, _ = masked_mse(pred, pair.target, mask)
        zero = recon.new_zeros(())
        terms = dict.fromkeys(AUX_TERMS, zero)
        total = self.weights.recon * recon
        if self.uses_positions:
            x_hat = self.process.clean_estimate(pair.xt, pair.t, pred)
            a = pair.aux_weight.detach() ** self.weights.aux_time_power  # (B,)
            for name, value in self._positions(self._as_positions(x_hat), x, mask).items():
                terms[name] = value.mean().detach()
                total = total + getattr(self.weights, name) * (a * value).mean()
        rollout = arm = zero
        if self.rollout is not None and given_noise:
            rollout, arm = self._rollout(model_fn, x, cond, mask, noise, real)
            total = total + self.rollout.weight * rollout
        return LossTerms(total=total, recon=recon.detach(), rollout=rollout.detach(),
                         real_arm_pace=arm.detach(), **terms)  # fmt: skip

    def _as_positions(self, f: Tensor) -> Tensor:
        """(B, T, 22, 3) joint positions, metres, of normalised features (B, T, D)."""
        return features_to_positions_torch(f * self.std + self.mean)

    def _positions(self, pred_pos: Tensor, x: Tensor, mask: Tensor | None) -> dict[str, Tensor]:
        """Per-sample position terms (B,) of an estimate's positions against normalised data."""
        f_true = x * self.std + self.mean
        return position_terms(
            pred_pos,
            features_to_positions_torch(f_true),
            f_true[..., CONTACTS] > 0.5,
            mask,
            self.fps,
        )

    def _rollout(
        self,
        model_fn: ModelFn,
        x: Tensor,
        cond: Any,
        mask: Tensor | None,
        noise: Tensor,
        real: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """(the rollout's loss, its unweighted real_arm_pace: 0 without real windows)."""
        from motiongen.generative.flow import euler

        r = self.rollout
        n = min(r.windows, x.shape[0])
        x, noise = x[:n], noise[:n]
        mask = None if mask is None else mask[:n]
        cond = cond.head(n) if hasattr(cond, "head") else cond

        def velocity(xt: Tensor, t: Tensor) -> Tensor:
            return model_fn(xt, t, cond, mask)

        sample = euler(velocity, noise, steps=r.steps)
        loss, _ = masked_mse(sample, x, mask)
        arm = loss.new_zeros(())
        against_real = real is not None and self.weights.real_arm_pace != 0.0
        if not (self.uses_positions or against_real):
            return loss, arm
        sample_pos = self._as_positions(sample)  # once, for both
        if self.uses_positions:
            for name, value in self._positions(sample_pos, x, mask).items():
                loss = loss + getattr(self.weights, name) * value.mean()
        if against_real:
            speeds = [
                arm_speed(p, mask, self.fps) for p in (sample_pos, self._as_positions(real[:n]))
            ]
            arm = ((speeds[0] - speeds[1]) ** 2).mean()
            loss = loss + self.weights.real_arm_pace * arm
        return loss, arm
