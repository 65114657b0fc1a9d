#!/usr/bin/env python3
"""Measure the ceiling for batched reads with redis-benchmark and write it as Google Benchmark JSON.

Usage: bench_ceiling.py HOST PORT OUT.json [REPETITIONS]

Runs `redis-benchmark -c 1 -P 100 -d 200 -t set,get` (one connection, 100 commands in flight,
200-byte values) REPETITIONS times (default 5) and records the GET rate as the aggregates
(median, cv) of BM_RedisBenchmarkP100_GetMany100, so that bench_table.py shows it as a baseline of
BM_Lib_GetMany100 (get_many of 100 keys).
"""

import csv
import io
import json
import statistics
import subprocess
import sys

NAME = "BM_RedisBenchmarkP100_GetMany100"


def get_rate(host, port):
    out = subprocess.run(
        ["redis-benchmark", "-h", host, "-p", str(port), "-c", "1", "-P", "100", "-n", "200000",
         "-d", "200", "-t", "set,get", "--csv"],
        capture_output=True, text=True, timeout=300, check=True).stdout
    for row in csv.reader(io.StringIO(out)):
        if row and row[0] == "GET":
            return float(row[1])
    raise RuntimeError("no GET line in redis-benchmark output:\n" + out)


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    repetitions = int(sys.argv[4]) if len(sys.argv) == 5 else 5
    rates = [get_rate(host, port) for _ in range(repetitions)]
    times = [1e9 / r for r in rates]  # ns per GET
    median = statistics.median(times)
    cv = statistics.pstdev(times) / statistics.mean(times)
    entry = {"run_name": NAME, "run_type": "aggregate", "time_unit": "ns", "iterations": len(rates)}
    data = {"context": {"executable": "redis-benchmark"}, "benchmarks": [
        dict(entry, name=NAME + "_median", aggregate_name="median", real_time=median,
             cpu_time=median),
        dict(entry, name=NAME + "_cv", aggregate_name="cv", real_time=cv, cpu_time=cv),
    ]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    print(f"redis-benchmark -P 100 GET: median {1e9 / median:,.0f} ops/s over {repetitions} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
