"""``motiongen capture`` (2-D keypoints to a clean 3-D motion) and ``motiongen lifter train``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import err, out
from motiongen.errors import InputError
from motiongen.io import WRITE_SUFFIXES

lifter_app = typer.Typer(help="The 2-D to 3-D lifter of motiongen capture.", no_args_is_help=True)


def capture(
    keypoints: Annotated[
        Path,
        typer.Argument(
            help="Keypoints: .json / .csv (COCO-17, MediaPipe-33) or an OpenPose output folder."
        ),  # fmt: skip
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Output: .bvh .mp4 .gif .png .motion .motion.json .npy .npz"
        ),
    ],
    imu: Annotated[
        Path | None,
        typer.Option(
            help="IMU CSV: time, joint, ax, ay, az (camera level frame, no gravity), or raw "
            "readings with gx, gy, gz (rad/s) added."
        ),
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(help="Music: the motion is retimed onto its beats and muxed into MP4."),
    ] = None,
    fps: Annotated[
        float | None, typer.Option(help="Frame rate, when the file does not give it.")
    ] = None,
    width: Annotated[float | None, typer.Option(help="Image width in pixels, if needed.")] = None,
    height: Annotated[float | None, typer.Option(help="Image height in pixels, if needed.")] = None,
    lifter: Annotated[
        Path | None, typer.Option(help="Lifter folder (default: the shipped one).")
    ] = None,
    cleanup: Annotated[bool, typer.Option(help="Bones, floor, feet, smoothing.")] = True,
) -> None:
    """Lift 2-D keypoints to a clean 3-D motion (Kalman-fused with IMUs when given)."""
    from motiongen.capture.imu import read_imu
    from motiongen.capture.keypoints import read_keypoints
    from motiongen.capture.lifter import FPS
    from motiongen.capture.pipeline import capture as run
    from motiongen.capture.pipeline import resample, shipped_lifter

    if not output.name.lower().endswith(WRITE_SUFFIXES):
        raise InputError(f"cannot write {output.name}; use one of {', '.join(WRITE_SUFFIXES)}")
    t0 = time.perf_counter()
    points = read_keypoints(keypoints, fps=fps, width=width, height=height)
    frames = len(resample(points)[0])
    sensors = read_imu(imu, FPS, frames) if imu is not None else None
    motion = run(points, lifter=shipped_lifter(lifter), imu=sensors, cleanup=cleanup)
    synced = ""
    if audio is not None:
        from motiongen.conditioning.audio_features import cached_features_from_file
        from motiongen.motion import AudioRef, Motion
        from motiongen.postprocess.beat_sync import MAX_STRETCH, beat_sync

        frames = int(round(motion.num_frames * MAX_STRETCH))  # the longest retimed motion
        beats = cached_features_from_file(audio, motion.fps, 0.0, num_frames=frames).beat_times
        retimed = beat_sync(motion.positions.astype("float64"), motion.fps, beats)
        hits = f"{100 * retimed.beats_hit_before:.0f} % -> {100 * retimed.beats_hit:.0f} %"
        # A retiming that lands no more accents on beats only changes the capture: keep it.
        meta = {**motion.meta, "beats_hit": [retimed.beats_hit_before, retimed.beats_hit],
                "retimed": retimed.improves}  # fmt: skip
        positions = retimed.positions if retimed.improves else motion.positions
        motion = Motion(positions=positions.astype("float32"), fps=motion.fps,
                        audio=AudioRef(str(audio), 0.0), meta=meta)  # fmt: skip
        synced = (
            f", retimed onto {audio.name}'s beats (beats with an accent {hits})"
            if retimed.improves
            else f", with {audio.name}; its timing kept (retiming onto the beats would give "
            f"beats with an accent {hits})"
        )
    motion.save(output)
    for line in points.report:
        err.print(f"[yellow]note:[/] {line}", highlight=False, soft_wrap=True)
    out.print(
        f"wrote {output} ({motion.num_frames} frames at {motion.fps:g} fps from "
        f"{points.num_frames} keypoint frames at {points.fps:g} fps"
        f"{', IMU on ' + str(len(sensors)) + ' joint(s)' if sensors else ''}{synced}) in "
        f"{time.perf_counter() - t0:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@lifter_app.command("train")
def train(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the lifter.")],
    minutes: Annotated[float, typer.Option(help="Wall-time budget.")] = 12.0,
    threads: Annotated[int, typer.Option(help="Torch threads.")] = 1,
) -> None:
    """Train the lifter on the prepared data filmed by random cameras (best on val kept)."""
    import torch

    from motiongen.capture.train import train_lifter

    if not 0 < minutes <= 24 * 60:
        raise InputError(f"--minutes must be in (0, 1440], got {minutes}")
    torch.set_num_threads(max(1, threads))
    info = train_lifter(
        out_dir,
        minutes=minutes,
        progress=lambda s, loss, val: out.print(
            f"step {s}: train {loss:.4f}, val MPJPE {val * 1000:.1f} mm", highlight=False
        ) if s % 500 == 0 else None,
    )  # fmt: skip
    out.print(
        f"{out_dir}: {info['steps']} steps, best val MPJPE {info['best_val_mpjpe_m'] * 1000:.1f} mm, "
        f"{info['parameters']:,} parameters",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("capture")(capture)
    app.add_typer(lifter_app, name="lifter")
