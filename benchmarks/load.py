"""Load test of ``motiongen serve`` on loopback: N concurrent clients for S seconds.

Run:  .venv/bin/python benchmarks/load.py [--clients 4] [--duration 20] [--batches 1,8]
      .venv/bin/python benchmarks/load.py --url http://127.0.0.1:8000   # a running server
      .venv/bin/python benchmarks/load.py --abandon 12                  # abandoned heavy work

Each client loops ``Client.generate`` (POST /generate, JSON answer) with its own prompts and
seeds, so every request is distinct. Without --url a fresh server is started for each
--max-batch value on a free port, with a temporary store, and stopped afterwards; the table
shows requests/s, p50/p95 latency, errors and the mean batch the server's model thread ran
(from GET /health stats, counted over the measured window only), then the throughput ratio
of the last configuration to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from motiongen.client import Client, MotionGenError, ServerUnavailableError

PROMPTS = (
    "a person walks forward",
    "a person jumps up and down",
    "someone waves with the right hand",
    "a person turns around slowly",
    "a man kicks with his left leg",
    "a woman bows politely",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    max_batch: int, queue_size: int, store: Path, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "motiongen.cli", "serve", "--port", str(port), "--store",
        str(store), "--max-batch", str(max_batch), "--queue-size", str(queue_size),
        "--log-level", "warning", *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    client = Client(url, timeout=10)
    deadline = time.monotonic() + 300
    while True:
        try:
            client.health()
            return proc, url
        except ServerUnavailableError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                sys.exit(f"the server did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.3)


def run_load(url: str, clients: int, duration: float, seconds: float, steps: int | None) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    warm = Client(url, timeout=300)
    warm.generate(PROMPTS[0], seconds=seconds, steps=steps, seed=0)  # first-call costs
    before = warm.health()["stats"]
    start = time.monotonic()
    stop_at = start + duration

    def worker(k: int) -> None:
        client = Client(url, timeout=300)
        i = 0
        while time.monotonic() < stop_at:
            text = PROMPTS[(k + i) % len(PROMPTS)]
            t0 = time.perf_counter()
            try:
                client.generate(text, seconds=seconds, steps=steps, seed=1000 * k + i)
                ok = True
            except MotionGenError as exc:
                ok = False
                with lock:
                    errors.append(str(exc))
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - t0)
            i += 1
        client.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    after = warm.health()["stats"]
    batches = after["batches"] - before["batches"]
    served = after["requests"] - before["requests"]
    lat = np.asarray(latencies) * 1e3
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "wall_s": round(wall, 2),
        "rps": len(latencies) / wall,
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p95_ms": float(np.percentile(lat, 95)) if len(lat) else float("nan"),
        "mean_batch": served / batches if batches else float("nan"),
        "max_batch": after["max_batch"],
    }


HEAVY = {"text": "a person dances wildly", "seconds": 30, "steps": 120, "sampler": "heun"}
SMALL = {"text": "a person waves", "seconds": 2.0}


def abandon_heavy(url: str, body: dict, after: float) -> None:
    """POST ``body`` to /generate on a raw socket and close it after ``after`` seconds, as a
    client that gives up (or a scripted attack) would."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        time.sleep(after)


def small_latencies(url: str, n: int) -> list[float]:
    client = Client(url, timeout=600)
    out = []
    for i in range(n):
        t0 = time.monotonic()
        client.generate(SMALL["text"], seconds=SMALL["seconds"], seed=i)
        out.append((time.monotonic() - t0) * 1e3)
    return out


def run_abandon(url: str, count: int) -> dict:
    """Small-request latency before and after ``count`` clients abandon heavy requests."""
    client = Client(url, timeout=60)
    small_latencies(url, 2)  # warm-up
    idle = small_latencies(url, 5)
    before = client.health()["stats"]
    threads = [threading.Thread(target=abandon_heavy, args=(url, HEAVY, 0.5)) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t0 = time.monotonic()
    loaded = small_latencies(url, 5)
    first_ms = loaded[0]
    time.sleep(1.0)
    after = client.health()["stats"]
    return {
        "abandoned_requests": count,
        "heavy_request": HEAVY,
        "idle_p50_ms": float(np.median(idle)),
        "after_abandon_first_ms": first_ms,
        "after_abandon_p50_ms": float(np.median(loaded)),
        "after_abandon_wall_s": round(time.monotonic() - t0, 2),
        "abandoned_seen_by_server": after["abandoned"] - before["abandoned"],
        "cancelled_batches": after["cancelled_batches"] - before["cancelled_batches"],
        "model_busy_s": round(after["busy_seconds"] - before["busy_seconds"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="Target a running server instead of starting one.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients.")
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of load each.")
    parser.add_argument("--batches", default="1,8", help="--max-batch values to compare.")
    parser.add_argument("--seconds", type=float, default=6.5, help="Motion length asked for.")
    parser.add_argument("--steps", type=int, default=None, help="Sampler steps (model default).")
    parser.add_argument("--out", type=Path, help="Also write the rows as JSON here.")
    parser.add_argument(
        "--abandon", type=int, default=0,
        help="Instead: N clients send heavy requests and hang up; small-request latency after.",
    )  # fmt: skip
    args = parser.parse_args()
    if args.abandon:
        # Budgets raised so the heavy requests run synchronously (by default they would be
        # jobs): this measures that abandoned synchronous work stops.
        extra = ("--sync-budget", "1000000", "--job-budget", "1000000", "--client-share", "64")
        with tempfile.TemporaryDirectory(prefix="motiongen-load-") as store:
            proc, url = start_server(4, 64, Path(store), extra)
            try:
                result = run_abandon(url, args.abandon)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        print(json.dumps(result, indent=2))
        if args.out:
            args.out.write_text(json.dumps(result, indent=2))
        return
    if args.clients < 1 or args.duration <= 0:
        sys.exit("--clients must be >= 1 and --duration > 0")

    rows = []
    if args.url:
        rows.append(run_load(args.url, args.clients, args.duration, args.seconds, args.steps))
    else:
        for max_batch in [int(b) for b in args.batches.split(",")]:
            with tempfile.TemporaryDirectory(prefix="motiongen-load-") as store:
                proc, url = start_server(max_batch, max(64, 4 * args.clients), Path(store))
                try:
                    rows.append(
                        run_load(url, args.clients, args.duration, args.seconds, args.steps)
                    )
                finally:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()

    print(
        f"\n{args.clients} clients x {args.duration:g} s, {args.seconds:g} s motions, "
        f"steps {args.steps or 'default'}, torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}"
    )
    header = f"{'max_batch':>9} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
    header += f"{'errors':>6} {'mean batch':>10}"
    print(header)
    for r in rows:
        print(
            f"{r['max_batch']:>9} {r['requests']:>8} {r['rps']:>7.2f} {r['p50_ms']:>8.0f} "
            f"{r['p95_ms']:>8.0f} {r['errors']:>6} {r['mean_batch']:>10.2f}"
        )
        for example in r["error_examples"]:
            print(f"          error: {example}")
    if len(rows) > 1 and rows[0]["rps"] > 0:
        print(
            f"throughput max_batch {rows[-1]['max_batch']} / {rows[0]['max_batch']}: "
            f"{rows[-1]['rps'] / rows[0]['rps']:.2f}x"
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
