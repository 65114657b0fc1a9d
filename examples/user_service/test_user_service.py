#!/usr/bin/env python3
"""ctest tests of user_service (label `examples`), driven by real tools: wrk for load, promtool
for the /metrics format, psql to look into PostgreSQL.

  test_user_service.py smoke|fault --service PATH --lua zipf.lua

smoke: every route's answers (400/404/413/429/401 included), wrk -d3s on GET /users/{id} with
       zero socket errors and zero non-2xx, promtool check metrics, counters that moved by
       exactly what wrk sent, PostgreSQL cut off (503 unless a fresh or stale cached copy can
       answer), and a SIGTERM that flushes queued events into PostgreSQL.
fault: redis-server killed while wrk runs and restarted: no 5xx (no non-2xx at all) on
       GET /users/{id}, and the hit rate recovers.

Servers: PostgreSQL from REDISCACHE_TEST_PG; a private redis-server (binary from
REDISCACHE_TEST_REDIS_SERVER) that the test starts, kills and restarts itself. Exits 77 (skipped)
when one of them or a tool is missing, unless REDISCACHE_TEST_REQUIRE_SERVERS=1.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_driver as sd  # noqa: E402

SKIP = 77
HIGH_LIMIT = ["--rate-burst", "1000000000", "--rate-per-second", "1000000"]
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def psql(pg, sql):
    out = subprocess.run(["psql", pg, "-qAtX", "-c", sql], check=True, capture_output=True,
                         text=True, timeout=60)
    return out.stdout.strip()


def delta(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


class PgProxy:
    """A TCP relay between the service and PostgreSQL that the test can cut, so 'PostgreSQL is
    down' can be tested without stopping the PostgreSQL other tests share."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cut_off = False
        self.lock = threading.Lock()
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                client.close()  # as a dead server: the connection ends at once
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.cut_off = True
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def restore(self):
        self.cut_off = False


def conninfo_with(pg, host, port):
    """The conninfo with host and port replaced (key=value form or a postgresql:// URI)."""
    if pg.startswith(("postgresql://", "postgres://")):
        return re.sub(r"@[^/]*/|//[^@/]*/", lambda m: (m.group(0)[0] if m.group(0)[0] == "@"
                                                       else "//") + f"{host}:{port}/", pg, 1)
    parts = [p for p in pg.split() if not p.startswith(("host=", "port=", "hostaddr="))]
    return " ".join(parts + [f"host={host}", f"port={port}"])


def pg_address(pg):
    out = psql(pg, "SELECT coalesce(inet_server_addr()::text, '127.0.0.1'), inet_server_port()")
    host, port = out.split("|")
    return host.split("/")[0], int(port)


def functional_checks(svc, pg):
    print("routes:")
    status, body = svc.get("/users/1")
    user = json.loads(body) if status == 200 else {}
    row = psql(pg, "SELECT name || '|' || email || '|' || (SELECT count(*) FROM orders "
                   "WHERE user_id = 1) FROM users WHERE id = 1")
    check(status == 200 and f"{user.get('name')}|{user.get('email')}|{user.get('orders')}" == row,
          "GET /users/1 is 200 with PostgreSQL's row and order count")
    check(svc.get("/users/abc")[0] == 400, "GET /users/abc is 400")
    check(svc.get("/users/0")[0] == 400, "GET /users/0 is 400")
    before = svc.metrics()
    check(svc.get("/users/99999999")[0] == 404 and svc.get("/users/99999999")[0] == 404,
          "GET of a missing user is 404, twice")
    check(delta(before, svc.metrics(), "rediscache_cache_negative_hits_total", cache="users") == 1,
          "the second 404 came from the cached 'not found'")
    status, body = svc.get("/users?ids=3,1,2,99999998,3")
    got = json.loads(body) if status == 200 else {}
    check(status == 200 and [u["id"] for u in got.get("users", [])] == [3, 1, 2]
          and got.get("not_found") == [99999998],
          "GET /users?ids=3,1,2,99999998,3 is 200: users in order, duplicates once, one not found")
    check(svc.get("/users?ids=1,x")[0] == 400, "GET /users?ids=1,x is 400")
    check(svc.get("/users?ids=" + ",".join(str(i) for i in range(1, 102)))[0] == 400,
          "GET /users with 101 ids is 400")
    check(svc.get("/users")[0] == 400, "GET /users without ids is 400")

    uid = 900000 + os.getpid() % 90000  # outside the seeded 1..10000 other examples check
    psql(pg, f"DELETE FROM users WHERE id = {uid}")
    check(svc.request("PUT", f"/users/{uid}", '{"name": "Ada"')[0] == 400,
          "PUT with malformed JSON is 400")
    check(svc.request("PUT", f"/users/{uid}", '{"name": "Ada"}')[0] == 400,
          "PUT without email is 400")
    check(svc.request("PUT", f"/users/{uid}", '[1, 2]')[0] == 400, "PUT of a JSON array is 400")
    check(svc.request("PUT", f"/users/{uid}", "x" * 20000)[0] == 413,
          "PUT of a 20,000-byte body (limit 16,384) is 413")
    check(svc.get(f"/users/{uid}")[0] == 404, "the new user is not there yet (404, now cached)")
    status, _, body = svc.request("PUT", f"/users/{uid}",
                                  json.dumps({"name": "Ada", "email": "ada@example.org"}))
    check(status == 200, "PUT /users/{id} with a valid body is 200")
    check(psql(pg, f"SELECT name FROM users WHERE id = {uid}") == "Ada",
          "PUT wrote PostgreSQL (write-through)")
    status, body = svc.get(f"/users/{uid}")
    check(status == 200 and json.loads(body)["name"] == "Ada",
          "GET after PUT sees the new user at once (the cached 404 was replaced)")
    svc.request("PUT", f"/users/{uid}", json.dumps({"name": "Ada L.", "email": "ada@example.org"}))
    status, body = svc.get(f"/users/{uid}")
    check(status == 200 and json.loads(body)["name"] == "Ada L.", "a second PUT is read back")

    status, _, body = svc.request("POST", "/users/1/events",
                                  json.dumps({"type": "page.view", "data": {"page": 3}}))
    event_id = json.loads(body).get("event_id") if status == 202 else None
    check(status == 202 and event_id, "POST /users/1/events is 202 with an event id")
    check(svc.request("POST", "/users/1/events", '{"type": "Bad Type"}')[0] == 400,
          "an event type with bad characters is 400")
    check(svc.request("POST", "/users/99999999/events", '{"type": "x"}')[0] == 404,
          "an event for a missing user is 404")
    sd.wait_until(lambda: psql(pg, f"SELECT count(*) FROM events WHERE id = '{event_id}'") == "1",
                  30, "the event in PostgreSQL")
    check(psql(pg, f"SELECT data->>'page' FROM events WHERE id = '{event_id}'") == "3",
          "write-behind put the event into the events table")

    status, headers, _ = svc.request("POST", "/login", json.dumps({"user_id": 2}))
    cookie = headers.get("Set-Cookie", "")
    check(status == 200 and all(f in cookie for f in ("HttpOnly", "Secure", "SameSite=")),
          "POST /login is 200 with an HttpOnly; Secure; SameSite cookie")
    sid = re.match(r"sid=([^;]+)", cookie)
    status, body = svc.get("/me", {"Cookie": f"sid={sid.group(1) if sid else ''}"})
    check(status == 200 and json.loads(body)["user"]["id"] == 2, "GET /me reads the session")
    check(svc.get("/me")[0] == 401, "GET /me without a cookie is 401")
    check(svc.get("/me", {"Cookie": "sid=AAAAAAAAAAAAAAAAAAAAAA"})[0] == 401,
          "GET /me with an unknown session is 401")
    check(svc.request("POST", "/login", '{"user_id": 99999999}')[0] == 401,
          "POST /login of an unknown user is 401")
    check(svc.request("POST", "/login", '{"user_id": "2"}')[0] == 400,
          "POST /login with a non-integer user_id is 400")
    status, body = svc.get("/healthz")
    check(status == 200 and json.loads(body) == {"status": "ok", "database": "up", "redis": "up"},
          "GET /healthz is 200, database and redis up")
    check(svc.get("/nope")[0] == 404, "an unknown path is 404")
    psql(pg, f"DELETE FROM users WHERE id = {uid}")


def load_checks(svc, lua):
    print("wrk -d3s on GET /users/{id}:")
    before = svc.metrics()
    wrk = sd.run_wrk(svc.url, lua, 3)
    after = svc.settled_metrics()
    print("    " + wrk["command"])
    print(f"    {wrk['requests']} requests, {wrk['rps']:.0f}/s, p50 {wrk['p50_ms']:.2f} ms, "
          f"p99 {wrk['p99_ms']:.2f} ms", flush=True)
    socket_errors = sum(wrk["errors"][k] for k in ("connect", "read", "write", "timeout"))
    check(wrk["requests"] > 0 and socket_errors == 0, f"no socket errors ({wrk['errors']})")
    check(wrk["errors"]["status"] == 0, "no non-2xx responses")

    route = sd.READ_ROUTE
    answered = delta(before, after, "user_service_http_requests_total", **route, status=200)
    other = after.where("user_service_http_requests_total",
                        lambda l: l.get("route") == "/users/{id}" and l.get("method") == "GET"
                        and l.get("status") != "200") - before.where(
        "user_service_http_requests_total",
        lambda l: l.get("route") == "/users/{id}" and l.get("method") == "GET"
        and l.get("status") != "200")
    # wrk stops counting at the deadline: up to one request per connection may be answered but
    # not counted by wrk.
    check(wrk["requests"] <= answered <= wrk["requests"] + 8,
          f"the service counted wrk's requests as 200s ({answered:.0f} for {wrk['requests']})")
    check(other == 0, "and no other status on that route")
    hist = delta(before, after, "user_service_http_request_duration_seconds_count", **route)
    check(hist == answered, f"the latency histogram counted each of them ({hist:.0f})")
    reads = sum(delta(before, after, f"rediscache_cache_{n}_total", cache="users")
                for n in ("hits", "negative_hits", "misses"))
    check(reads == answered, f"one cache read per request ({reads:.0f})")
    loads = delta(before, after, "rediscache_cache_loads_total", cache="users")
    queries = delta(before, after, "user_service_db_queries_total")
    check(queries == loads and loads <= reads,
          f"one database query per cache load, none otherwise ({queries:.0f} = {loads:.0f})")
    allowed = delta(before, after, "rediscache_rate_limiter_allowed_total", limiter="per_client")
    check(allowed == answered, f"one rate-limiter decision per request ({allowed:.0f})")
    hits = delta(before, after, "rediscache_cache_hits_total", cache="users")
    check(hits > loads, f"most reads hit ({hits:.0f} hits, {loads:.0f} loads)")

    with tempfile.NamedTemporaryFile("w", suffix=".prom") as f:
        f.write(after.text)
        f.flush()
        with open(f.name) as text:
            lint = subprocess.run(["promtool", "check", "metrics"], stdin=text,
                                  capture_output=True, text=True, timeout=60)
    check(lint.returncode == 0, "promtool check metrics accepts /metrics"
          + ("" if lint.returncode == 0 else ":\n" + lint.stdout + lint.stderr))
    for family in ("rediscache_pool_leases_total", "rediscache_cache_hits_total",
                   "user_service_near_cache_hits_total", "rediscache_write_behind_queue_depth",
                   "rediscache_write_through_writes_total", "rediscache_rate_limiter_allowed_total",
                   "rediscache_session_created_total", "user_service_http_requests_total",
                   "user_service_http_request_duration_seconds_bucket"):
        check(f"\n{family}" in after.text, f"/metrics has {family}")


def config_checks(service_bin, pg):
    print("configuration:")
    run = lambda *a, env=None: subprocess.run(  # noqa: E731
        [service_bin, *a], capture_output=True, text=True, timeout=30,
        env={**os.environ, **(env or {})})
    r = run("--help")
    check(r.returncode == 0 and "--pg" in r.stdout and "USER_SERVICE_PG" in r.stdout,
          "--help prints the flags and their environment variables, exit 0")
    r = run("--pg", pg, "--bogus")
    check(r.returncode == 2 and "--bogus" in r.stderr, "an unknown flag exits 2 naming it")
    r = run("--pg", pg, "--threads", "x")
    check(r.returncode == 2 and "--threads" in r.stderr, "a malformed number exits 2 naming it")
    r = run("--pg", pg, "--redis-url", "http://h:1")
    check(r.returncode == 2 and "rediss://" in r.stderr, "a URL of another scheme exits 2")
    r = run(env={"USER_SERVICE_PG": "", "USER_SERVICE_THREADS": "0"})
    check(r.returncode == 2 and "USER_SERVICE_THREADS" in r.stderr,
          "environment variables are validated too, named in the message")
    r = run(env={"USER_SERVICE_PG": ""})
    check(r.returncode == 2 and "--pg" in r.stderr, "no PostgreSQL URI exits 2")


def rate_limit_checks(service_bin, pg, redis_port):
    print("rate limit (burst 3, 1/s), Redis given as a URL:")
    # Port 1 first, then --redis-url: the later flag wins. A 429 proves the limiter reached Redis
    # through the URL (unreachable, it would fail open).
    svc = sd.Service(service_bin, pg, 1, "--redis-url", f"redis://127.0.0.1:{redis_port}/0",
                     "--rate-burst", "3", "--rate-per-second", "1")
    try:
        statuses = [svc.request("GET", "/users/1") for _ in range(5)]
        codes = [s for s, _, _ in statuses]
        check(codes[:3] == [200, 200, 200] and codes[3] == 429,
              f"three requests pass, the fourth is 429 ({codes})")
        retry = statuses[3][1].get("Retry-After", "")
        check(retry.isdigit() and int(retry) >= 1, f"429 carries Retry-After ({retry!r})")
        check(svc.get("/healthz")[0] == 200 and svc.get("/metrics")[0] == 200,
              "/healthz and /metrics are not rate-limited")
    finally:
        svc.stop()


def database_outage_checks(service_bin, pg, redis_port):
    print("PostgreSQL cut off:")
    proxy = PgProxy(*pg_address(pg))
    svc = sd.Service(service_bin, conninfo_with(pg, "127.0.0.1", proxy.port), redis_port,
                     *HIGH_LIMIT, "--cache-ttl-ms", "1000", "--stale-window-ms", "600000")
    # Users of their own, so no earlier phase has them cached with a longer TTL.
    base = 800000 + (os.getpid() % 9000) * 10
    stale_id, fresh_id, never_id = base + 1, base + 2, base + 3
    psql(pg, f"INSERT INTO users (id, name, email) SELECT g, 'outage ' || g, 'o@example.org' "
             f"FROM generate_series({base + 1}, {base + 3}) AS g ON CONFLICT (id) DO NOTHING")
    try:
        check(svc.get(f"/users/{stale_id}")[0] == 200, "a user loaded before the outage")
        time.sleep(1.3)  # past ttl (1 s + 10 % jitter): that entry is now stale, not gone
        check(svc.get(f"/users/{fresh_id}")[0] == 200, "another loaded just before it")
        before = svc.metrics()
        proxy.cut()
        check(svc.get(f"/users/{fresh_id}")[0] == 200, "a fresh cached user is still 200")
        check(svc.get(f"/users/{stale_id}")[0] == 200, "a stale cached user is 200 (stale_window)")
        check(delta(before, svc.metrics(), "rediscache_cache_stale_served_total",
                    cache="users") >= 1, "counted as stale_served")
        status, headers, _ = svc.request("GET", f"/users/{never_id}")
        check(status == 503 and headers.get("Retry-After") == "1",
              f"a user never cached is 503 with Retry-After ({status})")
        status, body = svc.get("/healthz")
        check(status == 503 and json.loads(body)["database"] == "down"
              and json.loads(body)["redis"] == "up",
              "GET /healthz is 503: database down, redis up")
        check(svc.request("PUT", f"/users/{never_id}", '{"name": "x", "email": "x@y"}')[0] == 503,
              "PUT is 503")
        proxy.restore()
        sd.wait_until(lambda: svc.get(f"/users/{never_id}")[0] == 200, 30,
                      "GET to succeed once PostgreSQL is back")
        check(True, "after the outage the service reconnects by itself")
        check(svc.get("/healthz")[0] == 200, "and /healthz is 200 again")
    finally:
        svc.stop()
        proxy.restore()
        psql(pg, f"DELETE FROM users WHERE id BETWEEN {base + 1} AND {base + 3}")


def shutdown_checks(service_bin, pg, redis_port):
    print("SIGTERM with events queued:")
    svc = sd.Service(service_bin, pg, redis_port, *HIGH_LIMIT)
    ids = []
    for i in range(50):
        status, _, body = svc.request("POST", "/users/7/events",
                                      json.dumps({"type": "click", "data": {"n": i}}))
        if status == 202:
            ids.append(json.loads(body)["event_id"])
    check(len(ids) == 50, "50 events accepted (202)")
    code = svc.stop(signal.SIGTERM)
    check(code == 0, f"the service exits 0 on SIGTERM ({code})")
    quoted = ",".join(f"'{i}'" for i in ids)
    stored = psql(pg, f"SELECT count(*) FROM events WHERE id IN ({quoted})") if ids else "0"
    check(stored == "50", f"all 50 are in PostgreSQL when it has exited ({stored})")


def tls_checks(service_bin, pg):
    """Redis over TLS through rediss:// and --redis-tls-ca: a 429 proves the limiter reached the
    TLS server (unreachable, it would fail open); without the CA, verification fails and the
    service still answers from PostgreSQL."""
    port = os.environ.get("REDISCACHE_TEST_TLS_PORT")
    ca = os.environ.get("REDISCACHE_TEST_TLS_CA_FILE")
    if not port or not ca:
        print("TLS: skipped (no REDISCACHE_TEST_TLS_PORT / REDISCACHE_TEST_TLS_CA_FILE)")
        return
    print("TLS to Redis (rediss://, --redis-tls-ca):")
    svc = sd.Service(service_bin, pg, 1, "--redis-url", f"rediss://127.0.0.1:{port}/0",
                     "--redis-tls-ca", ca, "--rate-burst", "3", "--rate-per-second", "1")
    try:
        codes = [svc.request("GET", "/users/1")[0] for _ in range(5)]
        check(codes[:3] == [200, 200, 200] and codes[3] == 429,
              f"over TLS three requests pass, the fourth is 429 ({codes})")
    finally:
        svc.stop()
    svc = sd.Service(service_bin, pg, 1, "--redis-url", f"rediss://127.0.0.1:{port}/0",
                     "--rate-burst", "3", "--rate-per-second", "1")
    try:
        codes = [svc.request("GET", "/users/1")[0] for _ in range(5)]
        check(all(c == 200 for c in codes),
              f"an untrusted certificate: Redis is unusable, PostgreSQL still answers ({codes})")
    finally:
        svc.stop()


def smoke(args, pg, redis_bin, workdir):
    redis = sd.RedisServer(redis_bin, workdir)
    redis.start()
    try:
        svc = sd.Service(args.service, pg, redis.port, *HIGH_LIMIT)
        try:
            functional_checks(svc, pg)
            load_checks(svc, args.lua)
        finally:
            code = svc.stop(signal.SIGINT)
            check(code == 0, f"the service exits 0 on SIGINT ({code})")
        config_checks(args.service, pg)
        rate_limit_checks(args.service, pg, redis.port)
        tls_checks(args.service, pg)
        database_outage_checks(args.service, pg, redis.port)
        shutdown_checks(args.service, pg, redis.port)
    finally:
        redis.stop()


def fault(args, pg, redis_bin, workdir):
    redis = sd.RedisServer(redis_bin, workdir)
    redis.start()
    svc = None
    try:
        # cpp-httplib gives each keep-alive connection a worker thread for as long as it lives:
        # two workers more than wrk's 8 connections stay free for the test's own requests.
        svc = sd.Service(args.service, pg, redis.port, *HIGH_LIMIT, "--threads", "10")
        warm = sd.run_wrk(svc.url, args.lua, 3)
        print(f"warm-up: {warm['rps']:.0f} requests/s, p50 {warm['p50_ms']:.2f} ms, "
              f"p99 {warm['p99_ms']:.2f} ms", flush=True)
        before = svc.metrics()
        running = sd.start_wrk(svc.url, args.lua, 9)
        time.sleep(2)
        redis.kill()
        killed_at = time.monotonic()
        print("redis-server killed (SIGKILL)", flush=True)
        time.sleep(1.5)
        status, body = svc.get("/healthz")
        check(status == 200 and json.loads(body)["redis"] == "down",
              f"during the outage /healthz is 200 and reports redis down ({status} {body})")
        outage_before = svc.metrics()
        time.sleep(1.5)
        outage_after = svc.metrics()
        redis.start()
        print(f"redis-server restarted after {time.monotonic() - killed_at:.1f} s", flush=True)
        wrk = sd.finish_wrk(running, 60)
        after = svc.settled_metrics()
        print("    " + wrk["command"])
        print(f"wrk across the outage: {wrk['requests']} requests, {wrk['rps']:.0f}/s, "
              f"p50 {wrk['p50_ms']:.2f} ms, p99 {wrk['p99_ms']:.2f} ms", flush=True)
        window = delta(outage_before, outage_after, "user_service_http_requests_total",
                       **sd.READ_ROUTE)
        window_queries = delta(outage_before, outage_after, "user_service_db_queries_total")
        print(f"during the outage alone (1.5 s between scrapes): {window / 1.5:.0f} requests/s, "
              f"{window_queries / window if window else 0:.2f} database queries per request",
              flush=True)
        socket_errors = sum(wrk["errors"][k] for k in ("connect", "read", "write", "timeout"))
        check(socket_errors == 0, f"no socket errors ({wrk['errors']})")
        check(wrk["errors"]["status"] == 0, "no non-2xx responses at all, so no 5xx")
        five = after.where("user_service_http_requests_total",
                           lambda l: l.get("route") == "/users/{id}"
                           and l.get("status", "").startswith("5")) - before.where(
            "user_service_http_requests_total",
            lambda l: l.get("route") == "/users/{id}" and l.get("status", "").startswith("5"))
        check(five == 0, "the service counted no 5xx on GET /users/{id}")
        check(window > 0, f"requests were answered while Redis was down ({window:.0f})")
        check(delta(before, after, "rediscache_cache_redis_errors_total", cache="users") > 0,
              "the cache saw the outage (redis_errors grew)")
        check(delta(before, after, "user_service_rate_limiter_bypassed_total") > 0,
              "the rate limiter failed open during the outage")

        # Recovery: the restarted Redis is empty, so the cache refills; wait (bounded) for the
        # hit rate over a 2-second run to be back above 80 %.
        rate = 0.0
        for attempt in range(10):
            b = svc.metrics()
            run = sd.run_wrk(svc.url, args.lua, 2)
            a = svc.settled_metrics()
            figures = sd.read_figures(b, a, run)
            rate = figures["hit_rate"] or 0.0
            print(f"after the restart, run {attempt + 1}: {run['rps']:.0f} requests/s, "
                  f"hit rate {100 * rate:.1f} %, p99 {run['p99_ms']:.2f} ms", flush=True)
            if rate >= 0.8:
                break
        check(rate >= 0.8, f"the hit rate recovers to at least 80 % ({100 * rate:.1f} %)")
        status, body = svc.get("/healthz")
        check(status == 200 and json.loads(body)["redis"] == "up", "/healthz reports redis up")
    finally:
        if svc is not None:
            code = svc.stop()
            check(code == 0, f"the service exits 0 on SIGTERM ({code})")
        redis.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["smoke", "fault"])
    p.add_argument("--service", required=True)
    p.add_argument("--lua", required=True)
    args = p.parse_args()
    require = os.environ.get("REDISCACHE_TEST_REQUIRE_SERVERS") == "1"
    pg = os.environ.get("REDISCACHE_TEST_PG", "")
    redis_bin = os.environ.get("REDISCACHE_TEST_REDIS_SERVER", "")
    missing = [name for name, ok in (
        ("REDISCACHE_TEST_PG", bool(pg)),
        ("REDISCACHE_TEST_REDIS_SERVER", bool(redis_bin) and os.access(redis_bin, os.X_OK)),
        ("wrk", shutil.which("wrk")), ("promtool", shutil.which("promtool")),
        ("psql", shutil.which("psql"))) if not ok]
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 1 if require else SKIP
    with tempfile.TemporaryDirectory(prefix="user_service_test.") as workdir:
        (smoke if args.mode == "smoke" else fault)(args, pg, redis_bin, workdir)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
