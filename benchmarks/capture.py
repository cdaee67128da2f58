"""Capture on held-out clips filmed by random cameras: 3-D error after each stage.

Run:  .venv/bin/python benchmarks/capture.py [--clips 40] [--seconds 12] [--noise 0.01]
          [--dropout 0.05] [--split test] [--lifter DIR] [--out FILE.json]

Each test-split clip (up to ``--seconds``, 20 fps) is filmed by one random camera
(``capture/camera.py``: 2.5-7 m, any side, 0.6-2.2 m high) and turned into COCO-17
keypoints with Gaussian noise of ``--noise`` x the body's pixel height and ``--dropout`` of
the points missed in runs. Then ``motiongen.capture.pipeline.stages``: lifted (raw), Kalman
smoothed (fused), canonicalised and post-processed (cleaned).

Errors against the true motion, in mm, averaged over frames and joints:
- MPJPE: joints relative to the pelvis (after the one rotation about the vertical that best
  aligns the whole clip, since a single camera cannot know which way is north);
- PA-MPJPE: after a per-frame similarity (Procrustes) alignment;
- body-12: the 12 joints every method has (shoulders, elbows, wrists, hips, knees, ankles),
  so the constant-depth baseline can be scored: the keypoints back-projected at the pelvis's
  true depth with the true focal length (a generous baseline: it is told the camera).
IMU: the right wrist is occluded (confidence 0) in 1 s runs covering a third of each clip;
simulated IMUs on both wrists (true acceleration + 0.3 m/s^2 noise) are fused or not, and
raw sensors on both wrists (``capture.camera.wrist_imu``: 100 Hz accelerometer with gravity
+ 0.05 m/s^2 noise and gyro + 0.01 rad/s noise, in the strap's own axes, unknown heading) go
through the file path's orientation filter and heading alignment; the wrist's error over the
occluded frames is reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402
from motiongen.skeleton import JOINT_INDEX  # noqa: E402

FPS = 20.0
BODY12 = [JOINT_INDEX[n] for n in (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")]  # fmt: skip
COCO_BODY12 = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]


def yaw_align(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """pred (T, J, 3) pelvis-relative, turned about Y to best match true (one angle per clip)."""
    p, t = pred[..., [0, 2]].reshape(-1, 2), true[..., [0, 2]].reshape(-1, 2)
    angle = np.arctan2((p[:, 0] * t[:, 1] - p[:, 1] * t[:, 0]).sum(), (p * t).sum())
    c, s = np.cos(angle), np.sin(angle)
    out = pred.copy()
    out[..., 0] = c * pred[..., 0] - s * pred[..., 2]
    out[..., 2] = s * pred[..., 0] + c * pred[..., 2]
    return out


def procrustes(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per frame: pred (T, J, 3) after the best similarity transform onto true."""
    out = np.empty_like(pred)
    for i, (p, t) in enumerate(zip(pred, true, strict=True)):
        mp, mt = p.mean(0), t.mean(0)
        a, b = p - mp, t - mt
        u, s, vt = np.linalg.svd(a.T @ b)
        d = np.sign(np.linalg.det(u @ vt))
        fix = np.diag([1.0, 1.0, d])
        r = u @ fix @ vt
        scale = (s * np.diag(fix)).sum() / max((a**2).sum(), 1e-12)
        out[i] = scale * a @ r + mt
    return out


def errors(pred: np.ndarray, true: np.ndarray, joints: list[int] | None = None) -> dict:
    """mm: MPJPE (pelvis-relative, yaw-aligned) and PA-MPJPE over ``joints``."""
    pr = pred - pred[:, :1]
    tr = true - true[:, :1]
    if joints is not None:
        pr, tr = pr[:, joints], tr[:, joints]
    aligned = yaw_align(pr, tr)
    mpjpe = float(np.linalg.norm(aligned - tr, axis=-1).mean() * 1000)
    pa = float(np.linalg.norm(procrustes(pr, tr) - tr, axis=-1).mean() * 1000)
    return {"mpjpe": mpjpe, "pa_mpjpe": pa}


def constant_depth(xy: np.ndarray, conf: np.ndarray, camera, world: np.ndarray) -> np.ndarray:
    """Keypoints back-projected at the pelvis's true depth: (T, 12, 3) in camera axes turned
    to y up (x, y flipped to the level frame's handedness)."""
    from motiongen.capture.lifter import _fill

    xy = _fill(xy, conf > 0)  # missed points interpolated in time, as the lifter's input is
    depth = camera.to_camera(world[:, 0])[:, 2:3]  # the true pelvis depth per frame
    centre = np.array([camera.width / 2, camera.height / 2])
    pts = (xy[:, COCO_BODY12] - centre) / camera.focal * depth[:, None]
    out = np.zeros((len(xy), 12, 3))
    out[..., 0] = -pts[..., 0]  # camera right -> level x (x = y cross z points left)
    out[..., 1] = -pts[..., 1]  # image down -> up
    out[..., 2] = depth
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.05)
    parser.add_argument("--split", default="test")
    parser.add_argument("--lifter", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.capture.camera import film, wrist_imu
    from motiongen.capture.fusion import joint_confidence, smooth
    from motiongen.capture.imu import ImuStreams, align_headings, level_acceleration, on_grid
    from motiongen.capture.keypoints import checked
    from motiongen.capture.lifter import level_frame
    from motiongen.capture.pipeline import shipped_lifter, stages
    from motiongen.capture.train import clip_positions

    lifter = shipped_lifter(args.lifter)
    rng = np.random.default_rng(args.seed)
    clips = clip_positions(args.split)
    rng.shuffle(clips)
    clips = clips[: args.clips]
    frames = int(args.seconds * FPS)
    rows: dict[str, list[dict]] = {k: [] for k in ("raw", "fused", "cleaned")}
    body: dict[str, list[float]] = {k: [] for k in ("baseline", "raw", "fused", "cleaned")}
    wrist = {"without IMU": [], "with IMU": [], "with raw IMU (accelerometer + gyro)": []}
    t0 = time.perf_counter()
    for clip in clips:
        pos = clip[:frames]
        xy, conf, camera = film(pos, rng, noise=args.noise, dropout=args.dropout)
        frame = level_frame(camera.rotation)
        true_level = (pos - pos[0, 0] * np.array([1.0, 0.0, 1.0])) @ frame.T
        points = checked(np.concatenate([xy, conf[..., None]], axis=-1), FPS, camera.width,
                         camera.height, False)  # fmt: skip
        got = stages(points, lifter=lifter)
        for name in rows:
            rows[name].append(errors(getattr(got, name), true_level))
            body[name].append(errors(getattr(got, name), true_level, BODY12)["mpjpe"])
        base = constant_depth(xy, conf, camera, pos)
        tb = true_level[:, BODY12] - true_level[:, :1]
        pelvis_base = base[:, 6:8].mean(axis=1, keepdims=True)  # hips' mean stands in
        body["baseline"].append(float(np.linalg.norm(
            yaw_align(base - pelvis_base, tb - tb[:, 6:8].mean(axis=1, keepdims=True))
            - (tb - tb[:, 6:8].mean(axis=1, keepdims=True)), axis=-1).mean() * 1000))  # fmt: skip
        # IMU: the right wrist hidden in 1 s runs; sensors on both wrists.
        hidden = np.zeros(len(pos), dtype=bool)
        for start in range(int(FPS), len(pos) - int(FPS), int(3 * FPS)):
            hidden[start : start + int(FPS)] = True
        conf2 = conf.copy()
        conf2[hidden, 10] = 0.0
        xy2 = xy.copy()
        xy2[hidden, 10] = 0.0
        occluded = checked(np.concatenate([xy2, conf2[..., None]], axis=-1), FPS, camera.width,
                           camera.height, False)  # fmt: skip
        plain = stages(occluded, lifter=lifter, cleanup=False)
        acc = np.gradient(np.gradient(true_level, axis=0), axis=0) * FPS * FPS
        imu = {j: acc[:, j] + rng.normal(0, 0.3, acc[:, j].shape)
               for j in (JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"])}  # fmt: skip
        fused = smooth(plain.raw, joint_confidence(conf2), FPS, imu=imu)
        # Raw sensors: readings in their own axes with gravity (100 Hz), orientation by
        # Madgwick's filter, heading found from the lifted wrists' visible frames.
        raw_streams = {}
        for side in ("left", "right"):
            times, a, g = wrist_imu(true_level, FPS, side, rng)
            level = level_acceleration(times, a, g)
            raw_streams[JOINT_INDEX[f"{side}_wrist"]] = on_grid(times, level, FPS, len(pos))
        aligned, _ = align_headings(ImuStreams(raw_streams, heading_known=False), plain.raw,
                                    joint_confidence(conf2), FPS)  # fmt: skip
        fused_raw = smooth(plain.raw, joint_confidence(conf2), FPS, imu=aligned.acc)
        j = JOINT_INDEX["right_wrist"]
        for name, pred in (("without IMU", plain.fused), ("with IMU", fused),
                           ("with raw IMU (accelerometer + gyro)", fused_raw)):  # fmt: skip
            rel = yaw_align(pred - pred[:, :1], true_level - true_level[:, :1])
            err = np.linalg.norm(
                rel[hidden, j] - (true_level - true_level[:, :1])[hidden, j], axis=-1
            )
            wrist[name].append(float(err.mean() * 1000))
    took = time.perf_counter() - t0
    # Live: frame by frame through CaptureStream (lift of the last 4 s + one Kalman step).
    from motiongen.capture.stream import CaptureStream

    stream = CaptureStream(lifter, fps=FPS)
    latencies = []
    live_err = []
    for clip in clips[:3]:
        pos = clip[:frames]
        xy, conf, camera = film(pos, rng, noise=args.noise, dropout=args.dropout)
        frame = level_frame(camera.rotation)
        true_level = (pos - pos[0, 0] * np.array([1.0, 0.0, 1.0])) @ frame.T
        stream = CaptureStream(lifter, fps=FPS)
        poses = []
        for t in range(len(xy)):
            start = time.perf_counter()
            poses.append(stream.push(xy[t], conf[t]))
            latencies.append((time.perf_counter() - start) * 1000)
        live_err.append(errors(np.stack(poses), true_level)["mpjpe"])
    p50, p95 = np.percentile(latencies, [50, 95])

    def mean(values: list[float]) -> float:
        return float(np.mean(values))

    table = {name: {"mpjpe": mean([r["mpjpe"] for r in rs]),
                    "pa_mpjpe": mean([r["pa_mpjpe"] for r in rs]),
                    "body12_mpjpe": mean(body[name])} for name, rs in rows.items()}  # fmt: skip
    lines = [
        f"{len(clips)} {args.split}-split clips (<= {args.seconds:g} s), one random camera each, "
        f"keypoint noise {args.noise:g} x body height, dropout {args.dropout:g}; {took:.0f} s",
        "",
        "| stage | MPJPE mm | PA-MPJPE mm | body-12 MPJPE mm |",
        "|---|---:|---:|---:|",
        f"| constant-depth baseline (true depth and focal) | – | – | {mean(body['baseline']):.1f} |",
    ]
    for name, t in table.items():
        lines.append(
            f"| {name} | {t['mpjpe']:.1f} | {t['pa_mpjpe']:.1f} | {t['body12_mpjpe']:.1f} |"
        )
    lines.append(f"| live (CaptureStream, no look-ahead) | {mean(live_err):.1f} | – | – |")
    lines += ["", "| right wrist while occluded | error mm |", "|---|---:|"]
    lines += [f"| {k} | {mean(v):.1f} |" for k, v in wrist.items()]
    lines += ["", f"Live latency per frame (lift + Kalman step, {len(latencies)} frames): "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"]  # fmt: skip
    payload = {"args": {k: str(v) for k, v in vars(args).items()}, "table": table,
               "baseline_body12": mean(body["baseline"]),
               "wrist_occluded": {k: mean(v) for k, v in wrist.items()},
               "live_mpjpe": mean(live_err), "latency_ms": {"p50": p50, "p95": p95}}  # fmt: skip
    report("\n".join(lines), payload, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
