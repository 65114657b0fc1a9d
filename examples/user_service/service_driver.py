"""Starts and drives user_service for scripts/demo and the ctest tests: a private redis-server,
the service itself, wrk runs (with zipf.lua) and /metrics scrapes. Every process started here is
stopped by its own PID; nothing is looked up or killed by name."""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it is true; raises after timeout seconds (never assumes speed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A redis-server of our own on a fixed free port, which can be stopped and restarted."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.dir = workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile",
             os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 20, f"redis-server on port {self.port}")

    def answers(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def kill(self):
        """Stops the server abruptly (SIGKILL), as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Service:
    """user_service on a free port (--port 0; the port is read from its first line of output)."""

    def __init__(self, binary, pg, redis_port, *flags, log_dir=None):
        self.log = tempfile.NamedTemporaryFile(
            mode="w+", prefix="user_service.", suffix=".log", dir=log_dir, delete=False)
        self.proc = subprocess.Popen(
            [binary, "--pg", pg, "--redis-host", "127.0.0.1", "--redis-port", str(redis_port),
             "--port", "0", *flags],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"listening on (http://[0-9.]+:\d+)", line)
        if not match:
            self.proc.wait(10)
            raise RuntimeError(f"user_service did not start: {line!r} {self.stderr()}")
        self.url = match.group(1)
        self._drain = threading.Thread(target=self._read_stdout, daemon=True)
        self._output = [line]
        self._drain.start()
        wait_until(lambda: self.get("/healthz")[0] == 200, 30, "user_service /healthz")

    def _read_stdout(self):
        for line in self.proc.stdout:
            self._output.append(line)

    def stderr(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body text) of one request; HTTP errors are results, not raises."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def get(self, path, headers=None):
        status, _, body = self.request("GET", path, headers=headers)
        return status, body

    def metrics(self):
        status, text = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return Metrics(text)

    def settled_metrics(self, timeout_s=10.0):
        """A scrape taken once the requests a load generator left in flight have finished.

        wrk stops at its deadline with up to one request per connection still inside the
        service: each has done its cache read and rate-limiter decision but not yet counted its
        response, so an immediate scrape sees reads = answered + k. Scrapes until the request
        counters (every route but /metrics, whose own scrape moves it) hold still between two
        scrapes 50 ms apart, for at most timeout_s; then returns the last one."""
        def busy(m):
            return (m.where("user_service_http_requests_total",
                            lambda l: l.get("route") != "/metrics"),
                    m.where("rediscache_cache_hits_total", lambda l: True),
                    m.where("rediscache_cache_misses_total", lambda l: True),
                    m.where("rediscache_rate_limiter_allowed_total", lambda l: True),
                    m.where("rediscache_rate_limiter_denied_total", lambda l: True))
        deadline = time.monotonic() + timeout_s
        last = self.metrics()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.metrics()
            if busy(current) == busy(last):
                return current
            last = current
        return last

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        self._drain.join(5)
        return self.proc.returncode

    def output(self):
        return "".join(self._output)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    """A parsed /metrics scrape: value(name, **labels) sums the samples whose labels match."""

    def __init__(self, text):
        self.text = text
        self.samples = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            if m:
                labels = dict(_LABEL.findall(m.group(2) or ""))
                self.samples.append((m.group(1), labels, float(m.group(3))))

    def value(self, name, **labels):
        return sum(v for n, ls, v in self.samples
                   if n == name and all(ls.get(k) == str(w) for k, w in labels.items()))

    def where(self, name, predicate):
        return sum(v for n, ls, v in self.samples if n == name and predicate(ls))


def run_wrk(url, lua, duration_s, threads=2, connections=8, script_args=()):
    """Runs wrk with zipf.lua and returns its RESULT line as a dict (plus wrk's own text)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "5s",
           "-s", lua, url]
    if script_args:
        cmd += ["--", *map(str, script_args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=duration_s + 60)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["text"] = out.stdout
            result["command"] = " ".join(cmd)
            return result
    raise RuntimeError("wrk printed no RESULT line:\n" + out.stdout + out.stderr)


def start_wrk(url, lua, duration_s, threads=2, connections=8):
    """Starts wrk in the background; finish_wrk() collects its result."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "5s",
           "-s", lua, url]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), cmd


def finish_wrk(started, timeout):
    proc, cmd = started
    out, err = proc.communicate(timeout=timeout)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["text"] = out
            result["command"] = " ".join(cmd)
            return result
    raise RuntimeError("wrk printed no RESULT line:\n" + out + err)


READ_ROUTE = {"method": "GET", "route": "/users/{id}"}


def read_figures(before, after, wrk):
    """The demo's columns for one wrk run, from wrk's result and two scrapes around it."""
    answered = after.value("user_service_http_requests_total", **READ_ROUTE) - before.value(
        "user_service_http_requests_total", **READ_ROUTE)
    queries = after.value("user_service_db_queries_total") - before.value(
        "user_service_db_queries_total")

    def delta(name):
        return after.value(name, cache="users") - before.value(name, cache="users")

    hits = delta("rediscache_cache_hits_total") + delta("rediscache_cache_negative_hits_total")
    reads = hits + delta("rediscache_cache_misses_total")
    near = delta("user_service_near_cache_hits_total")
    return {
        "rps": wrk["rps"],
        "p50_ms": wrk["p50_ms"],
        "p99_ms": wrk["p99_ms"],
        "requests": wrk["requests"],
        "answered": answered,
        "queries_per_request": queries / answered if answered else float("nan"),
        "hit_rate": hits / reads if reads else None,
        "near_share": near / reads if reads else None,
        "socket_errors": sum(wrk["errors"][k] for k in ("connect", "read", "write", "timeout")),
        "non_2xx": wrk["errors"]["status"],
    }
