#!/usr/bin/env python3
"""Turn Google Benchmark JSON files into Markdown tables (bench/RESULTS.md).

Usage: bench_table.py [-o OUT.md] RESULT.json...

Each JSON file is one bench program's output, run with --benchmark_repetitions=N
--benchmark_report_aggregates_only=true. For every benchmark the table shows the median
throughput: items_per_second when the benchmark reports items (SetItemsProcessed), else
iterations per second, always per second of wall-clock (real) time, and the coefficient of
variation of the real time.

Pairing convention: a benchmark named BM_Lib_<Name>[/args] is compared with BM_Raw_<Name>[/args]
(the same work done with raw hiredis) from any of the files; the "lib/raw" column is the ratio
of their median throughputs (1.00 = no overhead, 0.80 = the library does 80 % of raw hiredis's
operations per second). BM_<Other>_<Name> for any other <Other> (Sequential, Postgres,
RedisBenchmarkP100, ...) is a further baseline of BM_Lib_<Name>, shown in a second table with
the ratio lib/baseline (a speed-up when above 1); a baseline without arguments (redis-benchmark)
also pairs with the one BM_Lib_<Name>/<args>. BM_Cluster_<Name> is compared with BM_Single_<Name>
(the same library calls on a 3-master cluster and on one redis-server) in a third table.
BM_Tls<Variant>_<Name> (Tls, TlsResumed, TlsFullHandshake, ...) is compared with
BM_Plain_<Name> (the same library calls over plain TCP) in a fourth table. Benchmarks run at
several thread counts (.../threads:<N>) and having a BM_Pooled_<Name> row get a fifth table with
the thread counts as columns: every variant's ops/s, then rediscache (BM_Lib_) against each.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone

TIME_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
PAIR_RE = re.compile(r"^BM_(Raw|Lib)_(.+)$")
BASELINE_RE = re.compile(r"^BM_([A-Za-z0-9]+)_(.+)$")
TLS_RE = re.compile(r"^BM_Tls([A-Za-z0-9]*)_(.+)$")


def ops_per_second(entry):
    """Median wall-clock throughput of one aggregate entry, in operations per second.

    Google Benchmark computes items_per_second from CPU time unless the benchmark calls
    UseRealTime() (its name then ends in /real_time). A client waiting on a server spends little
    CPU, so CPU-based rates overstate it: convert to items per iteration, then divide by the real
    time per iteration.
    """
    unit = TIME_UNIT_SECONDS.get(entry.get("time_unit", "ns"), 1e-9)
    real_time = float(entry.get("real_time", 0.0)) * unit
    if real_time <= 0:
        return 0.0
    rate = float(entry.get("items_per_second") or 0.0)
    if not rate:
        return 1.0 / real_time
    name = entry.get("run_name") or entry.get("name", "")
    per = real_time if "/real_time" in name else float(entry.get("cpu_time", 0.0)) * unit
    return rate * per / real_time


def load(paths):
    """Returns [(program, {run_name: {"median": entry, "cv": entry}})] in input order."""
    programs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        runs = {}
        for entry in data.get("benchmarks", []):
            if entry.get("run_type") != "aggregate":
                continue
            name = entry.get("run_name") or entry["name"].rsplit("_", 1)[0]
            runs.setdefault(name, {})[entry.get("aggregate_name")] = entry
        program = os.path.splitext(os.path.basename(path))[0]
        programs.append((program, runs))
    return programs


def fmt_ops(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.1f}"


def fmt_cv(entry):
    if not entry:
        return ""
    # The "cv" aggregate stores a fraction in real_time (benchmark >= 1.6).
    return f"{100.0 * float(entry.get('real_time', 0.0)):.1f} %"


def run_started(paths):
    """The earliest start among the programs' JSON contexts: when the run began, not when the
    table was made (tables are re-made from a run's JSON by hand)."""
    starts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            date = json.load(f).get("context", {}).get("date")
        try:
            starts.append(datetime.fromisoformat(date).astimezone(timezone.utc))
        except (TypeError, ValueError):
            continue
    return min(starts) if starts else datetime.now(timezone.utc)


def machine_info(started):
    def run(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
            return out.stdout.strip()
        except OSError:
            return "unknown"

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    redis = run(["redis-server", "--version"])
    match = re.search(r"v=(\S+)", redis)
    return [
        ("date", started.strftime("%Y-%m-%d %H:%M UTC")),
        ("cpus (nproc)", str(os.cpu_count())),
        ("cpu model", cpu),
        ("kernel", platform.release()),
        ("redis-server", match.group(1) if match else redis or "unknown"),
        ("compiler", (run(["c++", "--version"]).splitlines() or ["unknown"])[0]),
    ]


def render(programs, started):
    lines = ["# Benchmark results", "",
             "Produced by `scripts/bench` (Release build, client and servers on one machine, "
             "loopback). Throughput is the median of the repetitions; compare numbers only "
             "within one run (run-to-run noise is 15-25 %).", ""]
    lines += ["| machine | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in machine_info(started)]
    lines.append("")

    medians = {}
    for program, runs in programs:
        lines += [f"## {program}", "", "| benchmark | median ops/s | cv |", "| --- | ---: | ---: |"]
        for name, aggregates in runs.items():
            median = aggregates.get("median")
            if not median:
                continue
            ops = ops_per_second(median)
            medians[name] = ops
            lines.append(f"| `{name}` | {fmt_ops(ops)} | {fmt_cv(aggregates.get('cv'))} |")
        lines.append("")

    pairs = []
    for name, lib_ops in medians.items():
        match = PAIR_RE.match(name)
        if match and match.group(1) == "Lib":
            raw_ops = medians.get(f"BM_Raw_{match.group(2)}")
            if raw_ops:
                pairs.append((match.group(2), raw_ops, lib_ops))
    lines += comparison(
        "Library against raw hiredis",
        "`BM_Lib_<Name>` against `BM_Raw_<Name>`: the same work through rediscache and through "
        "raw hiredis.",
        ["raw hiredis ops/s", "rediscache ops/s", "lib/raw"],
        [(name, [], raw_ops, lib_ops) for name, raw_ops, lib_ops in pairs])

    baselines = []
    for name, base_ops in medians.items():
        match = BASELINE_RE.match(name)
        # Lib* variants (LibNoProbe, ...) are the library measured another way, not baselines;
        # Single/Cluster have a table of their own.
        if not match or match.group(1) in ("Raw", "Single", "Cluster", "Plain") or \
                match.group(1).startswith("Lib") or match.group(1).startswith("Tls"):
            continue
        lib_ops = counterpart(medians, "Lib", match.group(2))
        if lib_ops and base_ops:
            baselines.append((match.group(2), match.group(1), base_ops, lib_ops))
    lines += comparison(
        "Library against other baselines",
        "`BM_Lib_<Name>` against `BM_<Baseline>_<Name>` (for example 100 sequential calls, "
        "PostgreSQL alone, or `redis-benchmark -P 100` as a ceiling).",
        ["baseline", "baseline ops/s", "rediscache ops/s", "lib/baseline"],
        [(name, [base], base_ops, lib_ops) for name, base, base_ops, lib_ops in baselines])

    clusters = []
    for name, single_ops in medians.items():
        match = BASELINE_RE.match(name)
        if match and match.group(1) == "Single":
            cluster_ops = medians.get(f"BM_Cluster_{match.group(2)}")
            if cluster_ops and single_ops:
                clusters.append((match.group(2), single_ops, cluster_ops))
    lines += comparison(
        "Cluster against one node",
        "`BM_Cluster_<Name>` (3-master Redis Cluster) against `BM_Single_<Name>` (one "
        "redis-server): the same library calls, the same threads.",
        ["one node ops/s", "cluster ops/s", "cluster/one node"],
        [(name, [], single_ops, cluster_ops) for name, single_ops, cluster_ops in clusters])

    tls = []
    for name, tls_ops in medians.items():
        match = TLS_RE.match(name)
        if match:
            plain_ops = medians.get(f"BM_Plain_{match.group(2)}")
            if plain_ops and tls_ops:
                variant = re.sub(r"(?<!^)(?=[A-Z])", " ", match.group(1)).lower() or "-"
                tls.append((match.group(2), variant, plain_ops, tls_ops))
    lines += comparison(
        "TLS against plain TCP",
        "`BM_Tls<Variant>_<Name>` against `BM_Plain_<Name>`: the same library calls over TLS "
        "and over plain TCP, to redis-servers of the same build and settings.",
        ["TLS variant", "plain ops/s", "TLS ops/s", "TLS/plain"],
        [(name, [variant], plain_ops, tls_ops) for name, variant, plain_ops, tls_ops in tls])
    lines += by_threads(medians)
    return "\n".join(lines)


THREADS_RE = re.compile(r"^BM_([A-Za-z0-9]+)_(.+?)(/real_time)?/threads:(\d+)$")
VARIANT_SHORT = {"Raw": "raw hiredis", "Pooled": "pooled", "RedisPlusPlus": "redis-plus-plus"}
VARIANT_LABELS = {"Raw": "raw hiredis, a connection per thread", "Pooled": "rediscache, pooled",
                  "RedisPlusPlus": "redis-plus-plus 1.3.15, pooled",
                  "Lib": "rediscache, multiplexed"}


def by_threads(medians):
    """Variants of one operation at several thread counts, the counts as columns."""
    table = {}  # name -> variant -> threads -> ops
    for full, ops in medians.items():
        match = THREADS_RE.match(full)
        if match:
            table.setdefault(match.group(2), {}).setdefault(match.group(1), {})[
                int(match.group(4))] = ops
    table = {name: v for name, v in table.items() if "Pooled" in v and "Lib" in v}
    if not table:
        return []
    lines = ["## Threads on one Client", "",
             "One `Client` shared by N threads (pool of 8), against raw hiredis with one "
             "connection per thread and, when built, redis-plus-plus with a pool of 8; ops/s, "
             "then rediscache multiplexed (`BM_Lib_`) against each.", ""]
    for name, variants in table.items():
        threads = sorted({t for per in variants.values() for t in per})
        lines += [f"### `{name}`", "",
                  "| | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |",
                  "| --- |" + " ---: |" * len(threads)]
        order = [v for v in ("Raw", "Pooled", "RedisPlusPlus", "Lib") if v in variants]
        order += sorted(v for v in variants if v not in order)
        for variant in order:
            cells = [fmt_ops(variants[variant][t]) if t in variants[variant] else "" for t in threads]
            lines.append(f"| {VARIANT_LABELS.get(variant, variant)} | " + " | ".join(cells) + " |")
        for variant in order:
            if variant == "Lib":
                continue
            cells = []
            for t in threads:
                base, lib = variants[variant].get(t), variants["Lib"].get(t)
                cells.append(f"{lib / base:.2f}×" if base and lib else "")
            lines.append(f"| multiplexed / {VARIANT_SHORT.get(variant, variant)} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    if not any("RedisPlusPlus" in v for v in table.values()):
        lines += ["redis-plus-plus rows skipped: not built (scripts/bench builds it from "
                  "`../shared/peers/` when that is there).", ""]
    return lines


def comparison(title, intro, headers, rows):
    """A "<measured> against <reference>" section: one row per (operation, extra text columns,
    reference ops/s, measured ops/s), ending with their ratio. Nothing when there are no rows."""
    if not rows:
        return []
    lines = [f"## {title}", "", intro, "",
             "| operation | " + " | ".join(headers) + " |",
             "| --- | " + " | ".join("---" if i < len(rows[0][1]) else "---:"
                                     for i in range(len(headers))) + " |"]
    for name, text, reference, measured in rows:
        cells = [*text, fmt_ops(reference), fmt_ops(measured), f"{measured / reference:.2f}"]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def counterpart(medians, kind, name):
    """Median of BM_<kind>_<name>; when <name> has no arguments (a baseline measured outside
    Google Benchmark, such as redis-benchmark), also of BM_<kind>_<name>/<args>."""
    exact = medians.get(f"BM_{kind}_{name}")
    if exact or "/" in name:
        return exact
    prefix = f"BM_{kind}_{name}/"
    matches = [ops for full, ops in medians.items() if full.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", help="write Markdown here instead of stdout")
    parser.add_argument(
        "--append",
        action="append",
        default=[],
        metavar="TITLE=FILE",
        help="add FILE's Markdown (a table a program printed) as a section titled TITLE",
    )
    parser.add_argument("results", nargs="+", help="Google Benchmark JSON files")
    args = parser.parse_args()
    text = render(load(args.results), run_started(args.results))
    for item in args.append:
        title, _, path = item.partition("=")
        with open(path, encoding="utf-8") as f:
            text += "\n## " + title + "\n\n" + f.read().strip() + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
