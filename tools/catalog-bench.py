#!/usr/bin/env python3
"""Catalog benchmarks: ingest time, and query latency at N entities.

Generates a synthetic catalog (tools/catalog-gen.py), times `portico import` of it into
a new database (the SQLite file given, or a new PostgreSQL database on the server at
TEST_DATABASE_URL), serves it, and measures p50/p99 of: by-name look-ups, a filtered
page of 100, facets. Requests go to 127.0.0.1 only; every loop is bounded.

    tools/catalog-bench.py --bin target/release/portico --count 10000 --backend sqlite
"""

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchdb import drop_database, new_database


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# Every route but the probes needs credentials: a viewer token made with
# `portico token create` (set by main once the catalog is imported).
HEADERS = {}


def timed_gets(port, paths):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        body = response.read()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
    conn.close()
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/portico")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="portico-catalog-bench-")
    catalog = os.path.join(work, "catalog")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "catalog-gen.py"), str(args.count), catalog], check=True, capture_output=True)
    url, drop = new_database(args.backend, work)
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")

    started = time.perf_counter()
    imported = subprocess.run([args.bin, "import", catalog], env=env, capture_output=True, text=True)
    ingest = time.perf_counter() - started
    if imported.returncode != 0:
        raise SystemExit(imported.stdout + imported.stderr)

    # The same catalog again, unchanged: what the server does with every location at start.
    started = time.perf_counter()
    again = subprocess.run([args.bin, "import", catalog], env=env, capture_output=True, text=True)
    reread = time.perf_counter() - started
    if again.returncode != 0 or " 0 added, 0 updated" not in again.stdout:
        raise SystemExit(again.stdout + again.stderr)

    token = subprocess.run([args.bin, "token", "create", "--name", "bench", "--role", "viewer"], env=env, capture_output=True, text=True, check=True)
    HEADERS["Authorization"] = f"Bearer {token.stdout.strip()}"

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env)
    try:
        for _ in range(600):
            try:
                if timed_gets(port, ["/readyz"]):
                    break
            except (OSError, SystemExit):
                time.sleep(0.05)
        # Let the watcher's first read of the location (it re-reads at start) finish.
        time.sleep(min(30, 2 + args.count / 5000))
        rng = random.Random(1)
        components = int(args.count * 0.5)
        by_name = [f"/api/catalog/entities/by-name/component/default/component-{rng.randrange(components):06d}" for _ in range(args.requests)]
        owners = [f"team-{rng.randrange(max(6, args.count // 100)):05d}" for _ in range(args.requests)]
        page = [f"/api/catalog/entities/by-query?filter=kind=component,spec.lifecycle=production&limit=100&fields=metadata.name,spec.owner" for _ in range(args.requests)]
        owned = [f"/api/catalog/entities/by-query?filter=kind=component,spec.owner={o}&limit=100" for o in owners]
        facets = ["/api/catalog/entity-facets?facet=spec.type&facet=spec.lifecycle&filter=kind=component"] * max(20, args.requests // 5)
        for paths in (by_name[:20], page[:5], facets[:5]):  # warm-up
            timed_gets(port, paths)
        results = {
            "by-name": timed_gets(port, by_name),
            "by-query, kind + lifecycle filter, page of 100": timed_gets(port, page),
            "by-query, kind + owner filter, page of 100": timed_gets(port, owned),
            "entity-facets (2 facets, kind filter)": timed_gets(port, facets),
        }
    finally:
        server.terminate()
        server.wait(timeout=15)
        drop_database(drop)
        # The generated catalog and the SQLite file: about 1 GB at 100k.
        shutil.rmtree(work, ignore_errors=True)

    print(f"| {args.backend} | {args.count} | ingest | {ingest:.1f} s |")
    print(f"| {args.backend} | {args.count} | import again, unchanged | {reread:.1f} s |")
    for name, samples in results.items():
        print(f"| {args.backend} | {args.count} | {name}, n={len(samples)} | p50 {statistics.median(samples):.1f} ms, p99 {percentile(samples, 99):.1f} ms |")


if __name__ == "__main__":
    main()
