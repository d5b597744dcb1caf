"""The database a benchmark runs against: a SQLite file in its work directory, or a new
database on the PostgreSQL server at TEST_DATABASE_URL (tools/with-test-postgres.sh
provides one), dropped afterwards."""

import os
import re
import subprocess
import uuid


def new_database(backend, work):
    """Returns (url, drop): `drop` is what `drop_database` needs, None for SQLite."""
    if backend == "sqlite":
        return f"sqlite://{work}/portico.db", None
    admin = os.environ.get("TEST_DATABASE_URL")
    if not admin:
        raise SystemExit("--backend postgres needs TEST_DATABASE_URL (make bench provides one)")
    name = "portico_bench_" + uuid.uuid4().hex[:8]
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    url = re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", admin, count=1) if admin.count("/") >= 3 else admin + "/" + name
    return url, (admin, name)


def drop_database(drop):
    if drop:
        subprocess.run(["psql", drop[0], "-qc", f"DROP DATABASE {drop[1]} WITH (FORCE)"], check=False)
