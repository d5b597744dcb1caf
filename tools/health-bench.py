#!/usr/bin/env python3
"""Health probes and deployment reports benchmark.

Starts two portals on new SQLite databases in a temporary directory: a target, whose
`/healthz` the probes check, and the portal measured, whose catalog holds N components,
each annotated with a health URL of the target in `production` (a distinct URL each).
Once every probe is scheduled and two intervals have passed, it measures for a while:
the measured portal's CPU use and memory, checks made per second, and how late checks
started (the schedule lag, from /metrics). Then it posts deployment reports through the
API from several client threads and reports the ingest rate. Builds nothing; requests go
to 127.0.0.1 only; every wait is bounded; the temporary directory is removed afterwards.

    tools/health-bench.py --bin target/release/portico --probes 5000 --interval 15s
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from benchhttp import cpu_seconds, free_port, request, rss_mib, wait_ready


def metrics(port, token):
    status, text = request(port, "GET", "/metrics", token=token)
    if status != 200:
        raise SystemExit(f"/metrics answered {status}")
    return text


def metric(text, name, labels=""):
    pattern = re.escape(name) + (re.escape(labels) if labels else r"(\{[^}]*\})?") + r" ([0-9.e+-]+)"
    total = 0.0
    for match in re.finditer(r"^" + pattern + r"$", text, re.MULTILINE):
        total += float(match.group(match.lastindex))
    return total


def lag_buckets(text):
    """`(upper bound, cumulative count)` of the schedule lag histogram."""
    out = []
    for match in re.finditer(r'^portico_health_schedule_lag_seconds_bucket\{le="([^"]+)"\} ([0-9.e+]+)$', text, re.MULTILINE):
        bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
        out.append((bound, float(match.group(2))))
    return out


def quantile(before, after, q):
    """The upper bound of the bucket holding quantile `q` of the checks between two scrapes."""
    deltas = [(bound, a - b) for (bound, a), (_, b) in zip(after, before)]
    total = deltas[-1][1] if deltas else 0
    if total == 0:
        return None
    for bound, count in deltas:
        if count >= q * total:
            return bound
    return float("inf")


def post_reports(port, token, count, threads, entity_names):
    """Posts `count` reports (started, then succeeded for half) from `threads` clients
    with kept-alive connections; returns (seconds, statuses)."""
    statuses = {}
    lock = threading.Lock()

    def work(offset):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        for i in range(offset, count, threads):
            body = {
                "id": f"bench-{i // 2}",
                "entity": entity_names[(i // 2) % len(entity_names)],
                "environment": "production",
                "version": f"1.{i // 2}.0",
                "status": "started" if i % 2 == 0 else "succeeded",
            }
            conn.request("POST", "/api/v1/deployments", body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    return time.perf_counter() - started, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/portico", help="the portico binary")
    parser.add_argument("--probes", type=int, default=5000, help="components probed (default 5000)")
    parser.add_argument("--interval", default="15s", help="probe interval (default 15s)")
    parser.add_argument("--measure", type=int, default=60, help="seconds measured (default 60)")
    parser.add_argument("--reports", type=int, default=4000, help="deployment reports posted (default 4000)")
    parser.add_argument("--threads", type=int, default=8, help="client threads posting reports (default 8)")
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        parser.error(f"{args.bin} is not an executable (build it first: make build)")
    interval = int(args.interval.rstrip("s"))

    work = tempfile.mkdtemp(prefix="portico-health-bench-")
    servers = []
    try:
        target_port, port = free_port(), free_port()
        target = subprocess.Popen(
            [args.bin, "serve", "--addr", f"127.0.0.1:{target_port}"],
            env=dict(os.environ, DATABASE_URL=f"sqlite://{work}/target.db", RUST_LOG="warn"),
        )
        servers.append(target)
        wait_ready(target_port, target)

        catalog = os.path.join(work, "catalog.yaml")
        names = [f"probed-{i:05d}" for i in range(args.probes)]
        with open(catalog, "w") as f:
            for name in names:
                f.write(
                    f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n"
                    f"  annotations:\n    portico.dev/health-url.production: http://127.0.0.1:{target_port}/healthz?c={name}\n"
                    f"    portico.dev/health-interval: {args.interval}\n"
                    f"spec:\n  type: service\n  lifecycle: production\n  owner: group:default/bench\n---\n"
                )
        env = dict(os.environ, DATABASE_URL=f"sqlite://{work}/portico.db", RUST_LOG="warn", PORTICO_ENVIRONMENTS="production")
        subprocess.run([args.bin, "migrate"], env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([args.bin, "import", catalog], env=env, check=True, capture_output=True, timeout=600)
        token = subprocess.run(
            [args.bin, "token", "create", "--name", "bench", "--role", "sre"],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()
        server = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env)
        servers.append(server)
        wait_ready(port, server)

        # Every probe scheduled, then two intervals to spread and settle.
        for _ in range(600):
            if metric(metrics(port, token), "portico_health_probes") >= args.probes:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the probes were not all scheduled within 5 minutes")
        time.sleep(2 * interval)

        before_text = metrics(port, token)
        cpu_before, target_cpu_before, t0 = cpu_seconds(server.pid), cpu_seconds(target.pid), time.perf_counter()
        time.sleep(args.measure)
        after_text = metrics(port, token)
        cpu_after, target_cpu_after, t1 = cpu_seconds(server.pid), cpu_seconds(target.pid), time.perf_counter()
        elapsed = t1 - t0
        checks = metric(after_text, "portico_health_checks_total") - metric(before_text, "portico_health_checks_total")
        down = metric(after_text, "portico_health_checks_total", '{outcome="down"}') - metric(before_text, "portico_health_checks_total", '{outcome="down"}')
        before, after = lag_buckets(before_text), lag_buckets(after_text)
        lag_sum = metric(after_text, "portico_health_schedule_lag_seconds_sum") - metric(before_text, "portico_health_schedule_lag_seconds_sum")
        lag_count = metric(after_text, "portico_health_schedule_lag_seconds_count") - metric(before_text, "portico_health_schedule_lag_seconds_count")
        print(f"probes: {args.probes} at {args.interval} (expected {args.probes / interval:.0f} checks/s)")
        print(f"measured {elapsed:.0f} s: {checks / elapsed:.0f} checks/s, {down:.0f} found down")
        print(f"portal CPU: {100 * (cpu_after - cpu_before) / elapsed:.1f}% of one core; RSS {rss_mib(server.pid):.0f} MiB")
        print(f"target CPU (answering the checks): {100 * (target_cpu_after - target_cpu_before) / elapsed:.1f}% of one core")
        mean = (lag_sum / lag_count * 1000) if lag_count else 0
        p50, p99 = quantile(before, after, 0.5), quantile(before, after, 0.99)
        print(f"schedule lag: mean {mean:.1f} ms, p50 <= {p50 * 1000:.0f} ms, p99 <= {p99 * 1000:.0f} ms (histogram bucket bounds)")

        # Deployment reports: new and moved on, over the API.
        seconds, statuses = post_reports(port, token, args.reports, args.threads, names)
        print(f"deployment reports: {args.reports} in {seconds:.2f} s = {args.reports / seconds:.0f}/s from {args.threads} threads, statuses {statuses}")
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
