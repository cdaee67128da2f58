"""RAG++: does retrieval help generation, how good is retrieval, and how does the index scale?

Run:  .venv/bin/python benchmarks/rag.py [--checkpoint tiny-rag] [--index DIR]
          [--reranker DIR] [--split test] [--samples 2] [--limit N]
          [--parts generation recognition retrieval scale] [--scale 1000000]
          [--out docs/results/rag]

generation: one checkpoint (default the shipped tiny-rag), the same conditions and seeds,
  with retrieval off (the prior dropped, as the network was trained 30 % of the time) and on
  (dense top-10 -> top-5 -> prior; and reranked when --reranker is given): FID, R-precision,
  FID_k, foot skating, sanity and dance-music agreement on the split (``motiongen eval``'s
  scoring), beside the real held-out row.
recognition: the label classifier on motions generated for every content x style prompt,
  both ways (``benchmarks/label_recognition.py``'s protocol, at 6.5 s for every prompt: the
  length retrieval would pick must not mix into the comparison).
retrieval: for the split's descriptions (and their mirrors) and for other wordings of their
  labels, precision@10 (share of the top 10 phrases with the query's label and side),
  hit@1 and recall@10 (a relevant phrase in the top 10): dense order vs reranked from the
  dense top 40. The index is the training split's: a held-out query never finds its own take.
select: sampler settings with retrieval on, on the VAL split only (--grid "midpoint:10:2.5"
  ...): where the shipped model's defaults come from; test is never used for choosing.
scale: N synthetic phrase vectors of the index's layout (clustered like real ones), flat
  inner product vs IVF-PQ: build time, index size, single-query latency p50/p95, and IVF-PQ's
  recall@10 of the exact top 10.

``--out X`` writes X.json and X.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402
from motiongen.errors import InputError  # noqa: E402
from motiongen.paths import DEFAULT_SECONDS  # noqa: E402

PARTS = ("select", "generation", "recognition", "retrieval", "scale")
GEN_KEYS = (
    ("FID", "fid"),
    ("R@1", "r1"),
    ("R@3", "r3"),
    ("FID_k", "fid_k"),
    ("foot skating", "skating"),
    ("sanity", "sanity"),
    ("dance agreement", "agreement"),
)


def _row(metrics: dict[str, Any]) -> dict[str, Any]:
    music = metrics.get("music") or {}
    r = metrics["r_precision"]
    return {
        "fid": metrics["fid"],
        "r1": r[0],
        "r3": r[2] if len(r) > 2 else None,
        "fid_k": metrics["fid_k"],
        "skating": metrics["physics"]["foot_skating_ratio"],
        "sanity": metrics["sanity_pass_rate"],
        "agreement": music.get("dance_agreement"),
        "n": metrics["n"],
        "ms_per_sample": metrics.get("ms_per_sample"),
    }


def variants(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Row name -> generate() keywords."""
    rows = {"no retrieval": {"rag": False}, "retrieval (dense)": {"rag": True}}
    if args.reranker:
        rows["retrieval (reranked)"] = {"rag": True, "rerank": True}
    if args.other_index:
        rows[f"retrieval (dense, index {Path(args.other_index).name})"] = {"rag": True,
                                                                         "other": True}  # fmt: skip
    return rows


def pipelines(args: argparse.Namespace) -> dict[str, Any]:
    """One Pipeline per variant kind: the dense one and (optionally) a reranking one."""
    from motiongen.pipeline import Pipeline

    dense = Pipeline.from_pretrained(args.checkpoint).use_index(args.index)
    out = {"dense": dense}
    if args.reranker:
        reranked = Pipeline.from_pretrained(args.checkpoint).use_index(
            args.index, reranker=args.reranker
        )
        out["reranked"] = reranked
    if args.other_index:
        out["other"] = Pipeline.from_pretrained(args.checkpoint).use_index(args.other_index)
    return out


def pick(pipes: dict[str, Any], options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    options = dict(options)
    if options.pop("other", False):
        return pipes["other"], options
    return (pipes["reranked"] if options.pop("rerank", False) else pipes["dense"]), options


def _scored(fns: dict[str, Any], data: Any, split: str, args: argparse.Namespace) -> dict:
    """``motiongen eval``'s scoring of each generate function on ``split``, with bars."""
    from motiongen.cli.console import named_progress, progress_bar
    from motiongen.eval.evaluator import REAL_ROW, evaluate_variants

    with progress_bar() as bar:
        rows, _ = evaluate_variants(
            fns, data, split=split, seed=args.seed, limit=args.limit,
            progress=named_progress(bar),
        )  # fmt: skip
    return {("real (held-out)" if k == REAL_ROW else k): _row(v) for k, v in rows.items()}


def generation(args: argparse.Namespace, data: Any, pipes: dict[str, Any]) -> dict[str, Any]:
    from motiongen.eval.evaluator import pipeline_generate_fn

    fns = {}
    for name, options in variants(args).items():
        pipe, extra = pick(pipes, options)
        fns[name] = pipeline_generate_fn(pipe, **extra)
    return _scored(fns, data, args.split, args)


def select(args: argparse.Namespace, data: Any, pipes: dict[str, Any]) -> dict[str, Any]:
    """Sampler x steps x guidance with retrieval on, scored on val (never test)."""
    from motiongen.eval.evaluator import pipeline_generate_fn

    fns = {}
    for item in args.grid:
        sampler, steps, guidance = item.split(":")
        fns[item] = pipeline_generate_fn(pipes["dense"], sampler=sampler, steps=int(steps),
                                         guidance=float(guidance), rag=True)  # fmt: skip
    return _scored(fns, data, "val", args)


def recognition(args: argparse.Namespace, data: Any, pipes: dict[str, Any]) -> dict[str, Any]:
    from motiongen.eval.recognition import (
        label_pairs,
        make_generate_fn,
        recognise_generated,
        recognise_real,
        summarise,
    )
    from motiongen.evaluators.classifier import LabelClassifier

    classifier = LabelClassifier.from_pretrained()
    pairs = label_pairs(data, classifier=classifier)
    if args.max_pairs:
        pairs = pairs[: args.max_pairs]
    real = recognise_real(classifier, data, pairs, split=args.split)
    out = {}
    from motiongen.cli.console import progress_bar

    with progress_bar() as bar:
        for name, options in variants(args).items():
            pipe, extra = pick(pipes, options)
            task = bar.add_task(f"recognition: {name}", total=len(pairs))
            gen = recognise_generated(
                classifier, pairs, make_generate_fn(pipe, seconds=DEFAULT_SECONDS, **extra), samples=args.samples,
                seed=args.seed, progress=lambda _p, t=task: bar.advance(t),
            )  # fmt: skip
            s = summarise(gen, real)["all"]
            out[name] = {k: s["generated_all"][k] for k in ("content", "style", "both", "motions")}
        out["real (held-out)"] = {k: s["real"][k] for k in ("content", "style", "both", "motions")}
    return out


def retrieval(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    from motiongen.augment import mirror_label
    from motiongen.data.text import training_phrasings
    from motiongen.retrieval import MotionIndex, Phrase
    from motiongen.retrieval.rerank import load_reranker
    from motiongen.retrieval.rerank_training import label_precision

    index = MotionIndex.load(args.index) if args.index else None
    if index is None:
        from motiongen.generation.rag import default_index_dir

        index = MotionIndex.load(default_index_dir())
    held = data.select(split=args.split)  # kept clips
    rng = np.random.default_rng(args.seed)
    described, reworded = [], []
    for rec in held:
        plain = Phrase("q", 0, 1, 20.0, "", labels=rec.labels)
        mirrored = Phrase("q", 0, 1, 20.0, "", labels=rec.labels, mirrored=True)
        for t in rec.texts[:1]:
            described += [(t, plain.label), (mirror_label(t), mirrored.label)]
        words = sorted(set(training_phrasings(rec.labels)) - set(rec.texts))
        if words:
            w = words[int(rng.integers(len(words)))]
            reworded += [(w, plain.label), (mirror_label(w), mirrored.label)]
    reranker = load_reranker(args.reranker) if args.reranker else None
    out: dict[str, Any] = {"index_phrases": len(index), "index_splits": index.info()["splits"]}
    for name, queries in (("descriptions", described), ("other wordings", reworded)):
        if args.max_queries and len(queries) > args.max_queries:
            queries = [
                queries[i] for i in rng.choice(len(queries), args.max_queries, replace=False)
            ]
        out[name] = {"dense": label_precision(index, queries)}
        if reranker is not None:
            out[name]["reranked"] = label_precision(index, queries, reranker=reranker)
    return out


def scale(args: argparse.Namespace) -> dict[str, Any]:
    """Flat vs IVF-PQ on N clustered synthetic vectors of the real index's size."""
    import faiss

    from motiongen.retrieval.index import new_faiss_index
    from motiongen.retrieval.vectors import VectorLayout, unit

    dim = VectorLayout(text_dim=384, motion_dim=128).dim
    n, rng = args.scale, np.random.default_rng(args.seed)
    centres = unit(rng.normal(size=(max(n // 200, 10), dim)).astype(np.float32))
    vecs = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 100_000):  # phrases cluster around actions, with spread
        k = min(100_000, n - i)
        vecs[i : i + k] = unit(
            centres[rng.integers(len(centres), size=k)]
            + 0.02 * rng.normal(size=(k, dim)).astype(np.float32)  # cosine ~0.9 to its centre
        )
    noise = 0.01 * rng.normal(size=(args.queries, dim)).astype(np.float32)
    queries = unit(vecs[rng.integers(n, size=args.queries)] + noise)
    ids = np.arange(n, dtype=np.int64)
    out: dict[str, Any] = {"vectors": n, "dim": dim, "queries": args.queries,
                           "threads": faiss.omp_get_max_threads()}  # fmt: skip
    exact = None
    nlist = args.nlist or int(4 * np.sqrt(n))
    for kind in ("flat", "ivf", "ivfpq"):
        t0 = time.perf_counter()
        index = new_faiss_index(dim, kind, nlist=nlist)
        if kind != "flat":
            train = vecs[rng.choice(n, min(n, 64 * nlist), replace=False)]
            index.train(train)
        index.add_with_ids(vecs, ids)
        build = time.perf_counter() - t0
        size = int(faiss.serialize_index(index).nbytes)
        for nprobe in (0,) if kind == "flat" else (16, 64):
            if nprobe:
                index.nprobe = nprobe
            lat, found = [], []
            for q in queries:
                t1 = time.perf_counter()
                _, top = index.search(q[None], 10)
                lat.append((time.perf_counter() - t1) * 1e3)
                found.append(top[0])
            found = np.stack(found)
            if exact is None:
                exact = found
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
            out[kind if not nprobe else f"{kind}_nprobe{nprobe}"] = {
                "build_s": round(build, 1),
                "index_mb": round(size / 2**20, 1),
                "query_ms_p50": round(float(np.percentile(lat, 50)), 3),
                "query_ms_p95": round(float(np.percentile(lat, 95)), 3),
                "recall_at_10_vs_flat": round(float(recall), 3),
                "nlist": 0 if kind == "flat" else nlist,
                "nprobe": nprobe,
            }
        del index
    return out


def _f(v: Any, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f} %" if pct else f"{v:.3f}"


def markdown(result: dict[str, Any]) -> str:
    lines = ["# RAG++ benchmark", ""]
    s = result["settings"]
    lines.append(f"`{s['command']}`  ")
    lines.append(f"checkpoint {s['checkpoint']}, index {s['index'] or 'default'}, "
                 f"reranker {s['reranker'] or 'none'}, seed {s['seed']}, split {s['split']} "
                 "(the selection part always val)")  # fmt: skip
    for part, title in (
        ("select", "Val split: sampler:steps:guidance with retrieval (selection)"),
        ("generation", "Generation with vs without retrieval"),
    ):
        if part not in result:
            continue
        lines += ["", f"## {title}", "",
                  "| row | " + " | ".join(k for k, _ in GEN_KEYS) + " | ms/sample |",
                  "|---|" + "---:|" * (len(GEN_KEYS) + 1)]  # fmt: skip
        for name, row in result[part].items():
            cells = [_f(row[k], pct=k in ("r1", "r3", "sanity")) for _, k in GEN_KEYS]
            ms = row.get("ms_per_sample")
            lines.append(
                f"| {name} | " + " | ".join(cells) + f" | {'' if ms is None else f'{ms:.0f}'} |"
            )
    if "recognition" in result:
        lines += ["", "## Label recognition of generated motion", "",
                  "| row | content | style | both | motions |", "|---|---:|---:|---:|---:|"]  # fmt: skip
        for name, row in result["recognition"].items():
            lines.append(f"| {name} | {_f(row['content'], True)} | {_f(row['style'], True)} | "
                         f"{_f(row['both'], True)} | {row['motions']} |")  # fmt: skip
    if "retrieval" in result:
        r = result["retrieval"]
        lines += ["", f"## Retrieval quality (index: {r['index_phrases']} phrases of "
                  f"{', '.join(r['index_splits'])})", "",
                  "| queries | order | precision@10 | hit@1 | recall@10 | n |",
                  "|---|---|---:|---:|---:|---:|"]  # fmt: skip
        for q in ("descriptions", "other wordings"):
            for order, m in r[q].items():
                lines.append(f"| {q} | {order} | {_f(m['precision@10'], True)} | "
                             f"{_f(m['hit@1'], True)} | {_f(m['recall@10'], True)} | {m['queries']} |")  # fmt: skip
    if "scale" in result:
        sc = result["scale"]
        lines += ["", f"## Index scale: {sc['vectors']:,} synthetic vectors of {sc['dim']} "
                  f"dimensions ({sc['queries']} single queries, {sc['threads']} threads)", "",
                  "| index | build s | size MB | query p50 ms | query p95 ms | recall@10 vs flat |",
                  "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for kind in [k for k in sc if k == "flat" or k.startswith("ivf")]:
            m = sc[kind]
            codes = ",PQ" if kind.startswith("ivfpq") else ",Flat"
            name = (
                "flat (exact)"
                if kind == "flat"
                else f"IVF{m['nlist']}{codes} (nprobe {m['nprobe']})"
            )
            lines.append(f"| {name} | {m['build_s']} | {m['index_mb']} | {m['query_ms_p50']} | "
                         f"{m['query_ms_p95']} | {m['recall_at_10_vs_flat']:.3f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="tiny-rag", help="folder or shipped name")
    parser.add_argument("--index", default=None, help="index folder (default: the built one)")
    parser.add_argument("--reranker", default=None, help="reranker folder")
    parser.add_argument("--other-index", default=None, help="a second index to compare")
    parser.add_argument("--split", default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first N eval conditions")
    parser.add_argument("--samples", type=int, default=2, help="motions per label pair")
    parser.add_argument("--max-pairs", type=int, default=None)
    parser.add_argument("--max-queries", type=int, default=None)
    parser.add_argument("--parts", nargs="+", default=[p for p in PARTS if p != "select"],
                        choices=PARTS)  # fmt: skip
    parser.add_argument("--grid", nargs="+", default=["midpoint:10:2.5", "midpoint:5:2.5",
                        "euler:4:2.5", "midpoint:10:1.5", "midpoint:10:4"])  # fmt: skip
    parser.add_argument("--scale", type=int, default=1_000_000, help="synthetic vectors")
    parser.add_argument("--nlist", type=int, default=1024, help="scale: IVF cells (0: 4 sqrt N)")
    parser.add_argument("--queries", type=int, default=300, help="scale: single queries")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    import shlex

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    result: dict[str, Any] = {"settings": {
        "command": shlex.join(["python", "benchmarks/rag.py", *(argv or sys.argv[1:])]),
        "checkpoint": args.checkpoint, "index": args.index, "reranker": args.reranker,
        "split": args.split, "seed": args.seed, "samples": args.samples, "limit": args.limit,
    }}  # fmt: skip
    data = None
    if {"select", "generation", "recognition", "retrieval"} & set(args.parts):
        from motiongen.data.prepare import prepare

        data = prepare().data
    pipes = None
    if {"select", "generation", "recognition"} & set(args.parts):
        pipes = pipelines(args)
    t0 = time.perf_counter()
    for part in args.parts:
        t1 = time.perf_counter()
        if part == "select":
            result[part] = select(args, data, pipes)
        elif part == "generation":
            result[part] = generation(args, data, pipes)
        elif part == "recognition":
            result[part] = recognition(args, data, pipes)
        elif part == "retrieval":
            result[part] = retrieval(args, data)
        elif part == "scale":
            if args.scale < 1000:
                raise InputError("--scale must be at least 1000 vectors")
            result[part] = scale(args)
        result.setdefault("seconds", {})[part] = round(time.perf_counter() - t1, 1)
    result["seconds"]["total"] = round(time.perf_counter() - t0, 1)
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
