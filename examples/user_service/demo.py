#!/usr/bin/env python3
"""The demo scripts/demo runs: user_service under wrk with the cache off (loader only) and on,
and a table of what each costs. Needs a redis-server and PostgreSQL already running (scripts/demo
starts them) and wrk.

  demo.py --service build/.../user_service --lua zipf.lua --pg CONNINFO --redis-port PORT
          [--seconds 5] [--threads 8]
"""

import argparse
import os
import platform
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_driver as sd  # noqa: E402


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--service", required=True)
    p.add_argument("--lua", required=True)
    p.add_argument("--pg", required=True)
    p.add_argument("--redis-port", required=True, type=int)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--threads", type=int, default=8)
    a = p.parse_args()

    # One client (wrk on 127.0.0.1) sends everything, so the per-client limit is raised out of the
    # way; the limiter still runs (one Redis round trip per request) in every row.
    common = ["--threads", str(a.threads), "--rate-burst", "1000000000",
              "--rate-per-second", "1000000"]
    # wrk: 2 threads (2 cores), one connection per service worker (cpp-httplib gives each
    # keep-alive connection a worker for its lifetime, so more connections would only queue).
    wrk = dict(threads=2, connections=a.threads)
    rows = []

    def measure(label, service, warm_up=False):
        if warm_up:
            sd.run_wrk(service.url, a.lua, a.seconds, **wrk)
        before = service.metrics()
        result = sd.run_wrk(service.url, a.lua, a.seconds, **wrk)
        figures = sd.read_figures(before, service.metrics(), result)
        rows.append((label, figures))
        print(f"  {label}: {figures['rps']:.0f} requests/s", flush=True)
        return result

    print(f"user_service demo: GET /users/{{id}}, Zipf(1.0) over 10,000 users, "
          f"wrk -t{wrk['threads']} -c{wrk['connections']} -d{a.seconds}s, "
          f"service --threads {a.threads}", flush=True)
    runs = [
        ("cache off (PostgreSQL only)", ["--no-cache"], False),
        ("cache on, cold start", [], False),
        ("cache on, warm", None, False),  # same instance as the row before
        ("cache on, warm, no near tier", ["--no-near-cache"], True),
    ]
    service = None
    command = None
    for label, flags, warm_up in runs:
        if flags is not None:
            if service is not None:
                service.stop()
            service = sd.Service(a.service, a.pg, a.redis_port, *common, *flags)
        command = measure(label, service, warm_up)["command"]
    service.stop()

    print()
    print(f"Machine: {machine()}; client, service, Redis and PostgreSQL share the cores.")
    print(f"wrk: {command.replace(a.lua, 'zipf.lua')}")
    print()
    header = ("| mode | requests/s | p50 | p99 | DB queries/request | hit rate | "
              "near-tier share | errors |")
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for label, f in rows:
        hit = "—" if f["hit_rate"] is None else f"{100 * f['hit_rate']:.1f} %"
        near = "—" if f["near_share"] is None else f"{100 * f['near_share']:.1f} %"
        errors = f["socket_errors"] + f["non_2xx"]
        print(f"| {label} | {f['rps']:,.0f} | {f['p50_ms']:.2f} ms | {f['p99_ms']:.2f} ms | "
              f"{f['queries_per_request']:.3f} | {hit} | {near} | {errors} |")
    off = rows[0][1]
    warm = rows[2][1]
    if off["rps"] > 0:
        print(f"\nWarm cache vs PostgreSQL only: {warm['rps'] / off['rps']:.2f}x requests/s, "
              f"p50 {off['p50_ms'] / warm['p50_ms']:.2f}x lower.")
    bad = [label for label, f in rows if f["socket_errors"] + f["non_2xx"] > 0]
    if bad:
        print("errors in: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (subprocess.CalledProcessError, RuntimeError, TimeoutError) as e:
        print(f"demo: {e}", file=sys.stderr)
        sys.exit(1)
