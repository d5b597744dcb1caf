#!/usr/bin/env python3
"""Portico's foundation benchmarks: time to ready, idle memory, bundle size, page latency.

Starts the release binary on a fresh SQLite database on a free loopback port, measures,
stops it with SIGTERM (timing the exit), and prints a Markdown table for BENCHMARKS.md.
Every request goes to 127.0.0.1 only, and every loop is bounded.
"""

import argparse
import gzip
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every route but the probes needs credentials: a viewer token made with
# `portico token create` (set by main once the database exists).
HEADERS: dict[str, str] = {}


def viewer_token(bin_path: str, env: dict) -> str:
    created = subprocess.run(
        [bin_path, "token", "create", "--name", "bench", "--role", "viewer"],
        env=env, capture_output=True, text=True, check=True,
    )
    return created.stdout.strip()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def catalog_freshness(binary: str, env: dict, port: int, edits: int = 20) -> list[float]:
    """Saves a catalog file the way editors do (write, rename) and times how long until
    the running server's API shows the change. Returns milliseconds per edit."""
    work = tempfile.mkdtemp(prefix="portico-bench-catalog-")
    path = os.path.join(work, "catalog-info.yaml")

    def save(description: str) -> None:
        with open(path + ".tmp", "w") as f:
            f.write(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
                f"  name: fresh\n  description: {description}\nspec:\n"
                "  type: service\n  lifecycle: production\n  owner: team-a\n"
            )
        os.replace(path + ".tmp", path)

    def description() -> str | None:
        status, body = get(port, "/api/catalog/entities/by-name/component/default/fresh")
        return json.loads(body)["metadata"].get("description") if status == 200 else None

    save("v0")
    subprocess.run([binary, "import", path], env=env, check=True, capture_output=True)
    # Let the watcher list the new location (it rescans every 2 s) before timing edits.
    time.sleep(3)
    samples = []
    for i in range(1, edits + 1):
        started = time.perf_counter()
        save(f"v{i}")
        deadline = started + 10
        while description() != f"v{i}":
            if time.perf_counter() > deadline:
                raise SystemExit(f"edit {i} was not visible within 10 s")
            time.sleep(0.002)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", default="target/release/portico")
    parser.add_argument("--site", default="target/site")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()

    wasm = os.path.join(args.site, "pkg", "portico.wasm")
    with open(wasm, "rb") as f:
        raw = f.read()
    gz = len(gzip.compress(raw, 9))

    port = free_port()
    data = tempfile.mkdtemp(prefix="portico-bench-")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{data}/portico.db", RUST_LOG="warn")
    started = time.perf_counter()
    server = subprocess.Popen(
        [args.bin, "serve", "--addr", f"127.0.0.1:{port}", "--site-root", args.site], env=env
    )
    ready_after = None
    deadline = started + 10
    while time.perf_counter() < deadline:
        try:
            if get(port, "/readyz")[0] == 200:
                ready_after = time.perf_counter() - started
                break
        except OSError:
            pass
        time.sleep(0.005)
    if ready_after is None:
        server.kill()
        raise SystemExit("portico did not become ready within 10 s")

    time.sleep(2)
    idle_rss = rss_kib(server.pid)
    HEADERS["Authorization"] = f"Bearer {viewer_token(args.bin, env)}"

    for _ in range(20):  # warm-up
        get(port, "/")
    home = []
    for _ in range(args.requests):
        t = time.perf_counter()
        status, _ = get(port, "/")
        home.append((time.perf_counter() - t) * 1000)
        assert status == 200
    busy_rss = rss_kib(server.pid)

    freshness = catalog_freshness(args.bin, env, port)

    t = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=15)
    exit_after = time.perf_counter() - t

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print()
    print("| what | measured |")
    print("|---|---|")
    print(f"| time from start to /readyz 200 (SQLite, new database) | {ready_after * 1000:.0f} ms |")
    print(f"| idle RSS, 2 s after ready | {idle_rss / 1024:.1f} MiB |")
    print(f"| RSS after {args.requests} page renders | {busy_rss / 1024:.1f} MiB |")
    print(f"| wasm bundle | {len(raw) / 1024:.0f} KiB raw, {gz / 1024:.0f} KiB gzipped |")
    print(
        f"| GET / (server-rendered), sequential, n={args.requests} | "
        f"p50 {statistics.median(home):.2f} ms, p99 {percentile(home, 99):.2f} ms |"
    )
    print(
        f"| catalog file saved → visible through the API, n={len(freshness)} | "
        f"p50 {statistics.median(freshness):.0f} ms, max {max(freshness):.0f} ms |"
    )
    print(f"| exit after SIGTERM | {exit_after * 1000:.0f} ms (exit code {code}) |")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
