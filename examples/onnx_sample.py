"""Sample a motion from an exported ONNX denoiser with onnxruntime, as an app embedding the
graph would: the graph evaluates the network, this file does the rest (the sampler loop, the
feature normalisation, features to joint positions, post-processing).

    motiongen export onnx tiny-flow-rollout-r5 -o r5.onnx
    python examples/onnx_sample.py r5.onnx tiny-flow-rollout-r5 "a person raises the right hand" -o raise.npy

It runs the model from noise with Euler steps and no guidance pass, as the shipped students
do; it does not retrieve a prior (``motiongen generate`` starts from retrieved takes where an
index is built, so its motions differ). Inputs and outputs of the graph: docs/deployment.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


def sample(graph: str | Path, checkpoint: str | Path, text: str, *, seconds: float = 6.0,
           steps: int = 4, seed: int = 0, encoder: Any = None, postprocess: bool = True,
           noise: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """(frames, 22, 3) joint positions in metres at the checkpoint's frame rate.

    encoder: a ``motiongen.conditioning.text.TextEncoder`` (default: the shipped one);
    noise: (1, frames, 137) starting noise (default: drawn with ``seed``). A graph that is no
    ONNX file raises ``ValueError``, a missing checkpoint motiongen's ``DataNotFoundError``."""
    import onnxruntime as ort

    from motiongen.checkpoint import read_config, resolve_checkpoint
    from motiongen.conditioning.text import shared_text_encoder
    from motiongen.features import CONTACTS, FEATURE_DIM, NormStats, features_to_positions

    folder = resolve_checkpoint(str(checkpoint))
    fps = float(read_config(folder).conditioning.fps)
    stats = np.load(folder / "norm.npz")
    norm = NormStats(stats["mean"], stats["std"])
    try:
        session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own types for a missing or bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"cannot load {graph} as an ONNX graph ({first}); export one with "
                         "`motiongen export onnx MODEL -o FILE.onnx`") from None  # fmt: skip
    inputs = {i.name: i for i in session.get_inputs()}
    if "task" in inputs or "style" in inputs:
        raise ValueError("a control model's graph needs task and style inputs: see docs/control.md")
    frames = int(round(seconds * fps))
    emb = (encoder or shared_text_encoder()).encode([text])
    mask_width = inputs["known_mask"].shape[-1]
    every = {
        "t": np.zeros(1, np.float32),
        "text_pooled": emb.pooled.numpy().astype(np.float32),
        "text_tokens": emb.tokens.numpy().astype(np.float32),
        "text_mask": emb.mask.numpy().astype(bool),
        "drop_text": np.zeros(1, bool),
        "drop_audio": np.ones(1, bool),  # no music
        "known_mask": np.zeros(
            (1, frames, mask_width if isinstance(mask_width, int) else 1), np.float32
        ),  # fmt: skip
        "drop_prior": np.ones(1, bool),  # a model with a retrieval prior input, run without one
    }
    for name in ("audio", "known", "prior"):  # zeros of the width the graph says
        if name in inputs:
            every[name] = np.zeros((1, frames, inputs[name].shape[-1]), np.float32)
    feed = {k: v for k, v in every.items() if k in inputs}  # only what this graph takes
    x = np.random.default_rng(seed).standard_normal((1, frames, FEATURE_DIM)).astype(np.float32)
    x = x if noise is None else noise.astype(np.float32)
    for i in range(steps):  # Euler from t = 0 (noise) to t = 1 (data)
        feed["t"][:] = i / steps
        x = x + session.run(["out"], {**feed, "x": x})[0] / steps
    features = norm.denormalize(x[0])
    positions = features_to_positions(features)
    if postprocess:  # as the pipeline cleans a text prompt's motion, with the network's contacts
        from motiongen.postprocess import SUPPORT_SECONDS
        from motiongen.postprocess import postprocess as clean

        positions = clean(positions.astype(np.float64), fps, contacts=features[:, CONTACTS] > 0.5,
                          follow_support=SUPPORT_SECONDS, add_guessed=True)  # fmt: skip
    return positions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("graph", type=Path)
    parser.add_argument("checkpoint")
    parser.add_argument("text")
    parser.add_argument("-o", "--out", type=Path, required=True, help=".npy of (frames, 22, 3)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from motiongen.errors import MotionGenError

    try:
        positions = sample(args.graph, args.checkpoint, args.text, seconds=args.seconds,
                           steps=args.steps, seed=args.seed)  # fmt: skip
    except (ValueError, MotionGenError) as err:  # a bad graph, checkpoint or prompt
        raise SystemExit(f"error: {str(err).splitlines()[0]}") from None
    np.save(args.out, positions.astype(np.float32))
    print(f"wrote {args.out}: {len(positions)} frames; `motiongen render {args.out} -o x.mp4`")


if __name__ == "__main__":
    main()
