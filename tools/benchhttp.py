"""HTTP helpers the benchmark scripts share: one request, waiting for readiness, a free
port, and the CPU time of a process."""

import http.client
import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def request(port, method, path, body=None, token=None):
    """One request; returns (status, body text)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def wait_ready(port, server, seconds=30):
    """Polls /readyz until 200; fails when the server exits or takes too long."""
    for _ in range(seconds * 20):
        if server.poll() is not None:
            raise SystemExit(f"portico serve exited with {server.returncode} before it was ready")
        try:
            if request(port, "GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"portico serve was not ready after {seconds} s")


def free_port():
    return int(subprocess.run([os.path.join(HERE, "free-port.sh")], capture_output=True, text=True, check=True).stdout)


def cpu_seconds(pid):
    """User + system CPU time of a process so far, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
