#!/usr/bin/env python3
"""Golden path benchmark: how long a new service takes, from the form's submission to a
repository with its first commit and the component in the catalog.

Starts a demo portal on a new SQLite database in a temporary directory (the demo installs
its golden paths and a git root of its own), makes a developer token, then runs the Rust
service golden path N times: one at a time first (the latency a developer sees), then
all at once (throughput, with the portal's four task slots). Reports the time from
`POST /api/scaffolder/v2/tasks` to the task's completion, the portal's CPU time and
memory, and checks that every repository exists. Builds nothing; requests go to
127.0.0.1 only; every wait is bounded; the temporary directory is removed afterwards.

    tools/template-bench.py --bin target/release/portico --runs 20
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

from benchhttp import cpu_seconds, free_port, request, rss_mib, wait_ready


def run_template(port, token, name):
    """Creates one service; returns the seconds until the task completed."""
    body = {
        "templateRef": "template:default/rust-service",
        "values": {
            "name": name,
            "owner": "group:default/checkout",
            "description": f"{name}, made by the benchmark",
            "repoUrl": f"git.northwind.test?owner=bench&repo={name}",
        },
    }
    started = time.perf_counter()
    status, text = request(port, "POST", "/api/scaffolder/v2/tasks", body, token)
    if status != 201:
        raise SystemExit(f"creating {name}: {status} {text}")
    task = json.loads(text)["id"]
    deadline = time.time() + 120
    while time.time() < deadline:
        status, text = request(port, "GET", f"/api/scaffolder/v2/tasks/{task}", token=token)
        state = json.loads(text)
        if state["status"] in ("completed", "failed", "cancelled"):
            if state["status"] != "completed":
                raise SystemExit(f"{name}: {state['status']}: {state.get('error')}")
            return time.perf_counter() - started
        time.sleep(0.005)
    raise SystemExit(f"{name} did not finish within 120 s")


def summary(label, seconds):
    seconds = sorted(seconds)
    p95 = seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))]
    print(f"{label}: {len(seconds)} runs, p50 {statistics.median(seconds) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="portico-template-bench-")
    server = None
    try:
        port = free_port()
        env = dict(os.environ, DATABASE_URL=f"sqlite://{work}/portico.db", RUST_LOG="warn",
                   PORTICO_DATA_DIR=f"{work}/data", PORTICO_TASK_DIR=f"{work}/tasks")
        server = subprocess.Popen([binary, "serve", "--demo", "--addr", f"127.0.0.1:{port}"],
                                  env=env, cwd=work)
        wait_ready(port, server)
        token = subprocess.run([binary, "token", "create", "--name", "bench", "--role", "developer"],
                               env=env, cwd=work, capture_output=True, text=True, timeout=60,
                               check=True).stdout.strip().splitlines()[-1]
        # The golden paths are installed while the database is prepared.
        for _ in range(200):
            status, _ = request(port, "GET", "/api/scaffolder/v2/templates/default/template/rust-service/parameter-schema", token=token)
            if status == 200:
                break
            time.sleep(0.05)
        cpu_before = cpu_seconds(server.pid)
        one_at_a_time = [run_template(port, token, f"seq-{i}") for i in range(args.runs)]
        summary("one at a time", one_at_a_time)

        together = []
        errors = []

        def worker(i):
            try:
                together.append(run_template(port, token, f"par-{i}"))
            except SystemExit as e:
                errors.append(str(e))

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.runs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        if errors:
            raise SystemExit("; ".join(errors))
        summary("all at once", together)
        print(f"all at once: {args.runs} services in {wall:.2f} s ({args.runs / wall:.1f} per second)")
        cpu = cpu_seconds(server.pid) - cpu_before
        print(f"portal CPU time for {2 * args.runs} runs: {cpu:.2f} s ({cpu / (2 * args.runs) * 1000:.0f} ms per run); RSS {rss_mib(server.pid):.1f} MiB")
        repos = sum(1 for _ in os.scandir(f"{work}/data/git/bench"))
        if repos != 2 * args.runs:
            raise SystemExit(f"{repos} repositories, expected {2 * args.runs}")
        print(f"{repos} repositories created, each with its first commit")
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
