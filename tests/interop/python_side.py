#!/usr/bin/env python3
"""The Python side of the interop test (tests/integration/interop_python_test.cpp).

Runs the seed document's Python snippets, unchanged (seed_cache_aside.py, seed_write_through.py;
see README.md here), against the test Redis. The snippets connect with
`redis.Redis(host='localhost', port=6379, decode_responses=True)` and query a `db` they do not
define: this driver executes them with a `redis` module whose `Redis` keeps the snippet's
arguments but points at the test server (or, on a cluster, returns a RedisCluster), and with a
`db` that answers from a JSON document given on the command line and counts its queries.

Usage (one step per process, the C++ test checks the output):
  python_side.py get <user_id> <db_json>     prints {"user": get_user(id), "db_queries": n}
  python_side.py update <user_id> <json>     update_user(id, data)  (SETEX, then db.execute)
  python_side.py delete <user_id>            r.delete("user:<id>"), prints the count deleted
  python_side.py raw <user_id>               prints {"value": r.get("user:<id>"), "ttl": r.ttl(..)}
  python_side.py probe x                     exits 0 (python3-redis is importable)
Environment: REDISCACHE_INTEROP_HOST and REDISCACHE_INTEROP_PORT; REDISCACHE_INTEROP_CLUSTER=1
for a Redis Cluster seeded at that address. Exit status 3: python3-redis is missing.
"""

import json
import os
import pathlib
import sys
import types

try:
    import redis as real_redis
except ImportError:
    print("python3-redis is not installed (Debian: apt-get install python3-redis)", file=sys.stderr)
    sys.exit(3)

HERE = pathlib.Path(__file__).resolve().parent


class FakeDb:
    """The snippets' `db`: query() answers from a dict of id -> row, execute() records."""

    def __init__(self, rows):
        self.rows = rows
        self.queries = 0
        self.executed = []

    def query(self, sql, params):
        self.queries += 1
        return self.rows.get(str(params[0]))

    def execute(self, sql, params):
        self.executed.append((sql, params))


def test_redis_module():
    test_host = os.environ["REDISCACHE_INTEROP_HOST"]
    test_port = int(os.environ["REDISCACHE_INTEROP_PORT"])
    cluster = os.environ.get("REDISCACHE_INTEROP_CLUSTER") == "1"

    def connect(host="localhost", port=6379, **kwargs):  # the snippet's address is replaced
        del host, port
        if cluster:
            from redis.cluster import RedisCluster

            return RedisCluster(host=test_host, port=test_port, **kwargs)
        return real_redis.Redis(host=test_host, port=test_port, **kwargs)

    module = types.ModuleType("redis")
    module.Redis = connect
    return module


def load_snippets(rows):
    sys.modules["redis"] = test_redis_module()
    namespace = {"__name__": "seed", "db": FakeDb(rows)}
    for name in ("seed_cache_aside.py", "seed_write_through.py"):
        source = (HERE / name).read_text()
        exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the seed's own code
    return namespace


def main(argv):
    command, user_id = argv[1], argv[2]
    if command == "probe":  # python3-redis imported: nothing else to check
        return 0
    rows = json.loads(argv[3]) if command == "get" and len(argv) > 3 else {}
    seed = load_snippets(rows)
    r = seed["r"]
    if command == "get":
        user = seed["get_user"](user_id)
        print(json.dumps({"user": user, "db_queries": seed["db"].queries}))
    elif command == "update":
        seed["update_user"](user_id, json.loads(argv[3]))
        print(json.dumps({"executed": len(seed["db"].executed)}))
    elif command == "delete":
        print(json.dumps({"deleted": r.delete(f"user:{user_id}")}))
    elif command == "raw":
        key = f"user:{user_id}"
        print(json.dumps({"value": r.get(key), "ttl": r.ttl(key)}))
    else:
        print("unknown command " + command, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
