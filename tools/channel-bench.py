#!/usr/bin/env python3
"""Live channels benchmark: websocket fan-out of catalog events.

Starts the portal on a new SQLite database in a temporary directory, registers one
catalog file holding a Component, and runs the load tool (tools/channel-load) against it:
N websocket clients join `catalog` (or, with --topic entity, the entity's own topic,
where presence is tracked too), then M changes of the file are published one at a time
and timed until every client has each. Builds nothing; requests go to 127.0.0.1
only; every wait is bounded; the temporary directory is removed afterwards.

    tools/channel-bench.py --bin target/release/portico --load target/release/channel-load \\
        --sockets 200 --events 20
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile

from benchdb import drop_database, new_database
from benchhttp import request, wait_ready

NAME = "channel-load"
ENTITY_REF = f"component:default/{NAME}"
# `catalog` carries every entity change; the entity's own topic also lists who is there
# (presence), which costs more per join.
TOPICS = {"catalog": "catalog", "entity": f"entity:{ENTITY_REF}"}
ENTITY = f"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {NAME}
  description: Changed by tools/channel-load once per published event.
  annotations:
    portico.dev/load-sequence: "0"
spec:
  type: service
  lifecycle: production
  owner: group:default/bench
"""


def raise_open_files(sockets):
    """Every socket is a descriptor on both sides: lift the soft limit to the hard one
    (inherited by the server and the load tool), or say why the run cannot work."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < sockets + 100:
        raise SystemExit(f"{sockets} sockets need about {sockets + 100} open files; the limit is {soft} (ulimit -n)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="target/release/portico", help="the portico binary")
    parser.add_argument("--load", default="target/release/channel-load", help="the channel-load binary")
    parser.add_argument("--sockets", type=int, default=200, help="websocket clients (default 200)")
    parser.add_argument("--events", type=int, default=20, help="events published one at a time (default 20)")
    parser.add_argument("--connect-concurrency", type=int, default=200, help="handshakes in flight at once")
    parser.add_argument("--topic", choices=sorted(TOPICS), default="catalog", help="the topic the clients join (default catalog)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite", help="the database (postgres: a new database at TEST_DATABASE_URL)")
    parser.add_argument("--replicas", type=int, default=1, help="portals on the database (postgres only): sockets are spread over them, changes go through the first")
    parser.add_argument("--json", action="store_true", help="print the load tool's report as JSON")
    args = parser.parse_args()
    if args.sockets < 1 or args.events < 1:
        parser.error("--sockets and --events must be at least 1")
    if args.replicas < 1 or (args.replicas > 1 and args.backend != "postgres"):
        parser.error("--replicas above 1 needs --backend postgres (SQLite serves one instance)")
    for path in (args.bin, args.load):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable (build it first: make build, cargo build --release -p portico-channel-load)")
    raise_open_files(args.sockets)

    here = os.path.dirname(os.path.abspath(__file__))
    work = tempfile.mkdtemp(prefix="portico-channel-bench-")
    servers = []
    drop = None
    try:
        catalog = os.path.join(work, "catalog")
        os.mkdir(catalog)
        entity_file = os.path.join(catalog, f"{NAME}.yaml")
        with open(entity_file, "w") as f:
            f.write(ENTITY)
        url, drop = new_database(args.backend, work)
        env = dict(os.environ, DATABASE_URL=url, PORTICO_CATALOG_ROOTS=work, RUST_LOG="warn")
        ports = []
        for _ in range(args.replicas):
            port = int(subprocess.run([os.path.join(here, "free-port.sh")], capture_output=True, text=True, check=True).stdout)
            server = subprocess.Popen([args.bin, "serve", "--addr", f"127.0.0.1:{port}"], env=env)
            servers.append(server)
            wait_ready(port, server)
            ports.append(port)
        port, server = ports[0], servers[0]
        created = subprocess.run([args.bin, "token", "create", "--name", NAME, "--role", "developer"], env=env, capture_output=True, text=True, timeout=60)
        if created.returncode != 0:
            raise SystemExit(f"portico token create failed: {created.stdout}{created.stderr}")
        token = created.stdout.strip()

        status, body = request(port, "POST", "/api/catalog/locations", {"type": "file", "target": entity_file}, token)
        if status != 201:
            raise SystemExit(f"registering {entity_file}: {status} {body[:500]}")

        command = [
            args.load, "--url", f"http://127.0.0.1:{port}", "--token", token,
            "--sockets", str(args.sockets), "--events", str(args.events), "--topic", TOPICS[args.topic],
            "--entity-file", entity_file, "--entity-ref", ENTITY_REF,
            "--server-pid", str(server.pid), "--connect-concurrency", str(args.connect_concurrency),
        ] + [arg for other in ports[1:] for arg in ("--socket-server", f"http://127.0.0.1:{other}")] + (["--json"] if args.json else [])
        # Connecting, 2 s of settling, and at most 10 s per event, with a margin.
        budget = 120 + args.sockets / 50 + 12 * args.events
        load = subprocess.run(command, capture_output=True, text=True, timeout=budget)
        sys.stdout.write(load.stdout)
        sys.stderr.write(load.stderr)
        if load.returncode != 0:
            raise SystemExit(f"channel-load exited with {load.returncode}")
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=5)
        drop_database(drop)
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
