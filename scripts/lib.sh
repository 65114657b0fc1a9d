# shellcheck shell=bash disable=SC2034
# Sourced by scripts/test, scripts/demo and scripts/bench: the Debian packages the project needs,
# throw-away redis-server and PostgreSQL instances on free loopback ports, and their cleanup.
#
# Servers run from one temporary directory ($RC_TMP) and are stopped by PID (never by name) from
# an EXIT trap, which also runs on failure and on INT/TERM.

# Everything a clean Debian 12 machine needs to build, test, lint, demo and benchmark rediscache.
RC_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libhiredis-dev nlohmann-json3-dev libpqxx-dev libpq-dev libzstd-dev
  libgtest-dev googletest libbenchmark-dev
  redis-server redis-tools postgresql postgresql-contrib
  python3 python3-redis
  clang-format clang-tidy
  util-linux procps
)

# Set by rc_tsan_prefix, read by the scripts that source this file.
RC_TSAN_PREFIX=()
RC_TMP=""
RC_REDIS_PID=""
RC_PG_BIN=""
RC_PG_DATA=""
RC_RESTORE_MMAP_RND_BITS=""

rc_log() { printf '==> %s\n' "$*" >&2; }
rc_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Installs whatever of RC_PACKAGES is missing (apt-get update once, then one apt-get install).
# Not root: prints the command to run and exits 1.
rc_install_packages() {
  local missing=() pkg
  for pkg in "${RC_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if ((EUID != 0)); then
    printf 'error: missing Debian packages: %s\nInstall them with:\n' "${missing[*]}" >&2
    printf '  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' \
      "${missing[*]}" >&2
    exit 1
  fi
  rc_log "installing: ${missing[*]}"
  # Keep the packages' init scripts from starting system-wide redis/postgres services (the
  # standard invoke-rc.d policy hook); our tests start their own servers on private ports.
  local policy=/usr/sbin/policy-rc.d added_policy=0 status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  apt-get update -q || status=$?
  if ((status == 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
      status=$?
  fi
  if ((added_policy)); then
    rm -f "$policy"
  fi
  ((status == 0)) || rc_die "apt-get failed (exit $status)"
}

# Stops the servers by PID, restores kernel settings, removes $RC_TMP. Idempotent.
rc_cleanup() {
  if [[ -n $RC_REDIS_PID ]]; then
    kill -TERM "$RC_REDIS_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$RC_REDIS_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$RC_REDIS_PID" 2>/dev/null || true
    RC_REDIS_PID=""
  fi
  if [[ -n $RC_PG_DATA ]]; then
    rc_as_postgres "$RC_PG_BIN/pg_ctl" -D "$RC_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    RC_PG_DATA=""
  fi
  if [[ -n $RC_RESTORE_MMAP_RND_BITS ]]; then
    sysctl -q -w "vm.mmap_rnd_bits=$RC_RESTORE_MMAP_RND_BITS" >/dev/null 2>&1 || true
    RC_RESTORE_MMAP_RND_BITS=""
  fi
  if [[ -n $RC_TMP ]]; then
    rm -rf "$RC_TMP"
    RC_TMP=""
  fi
}

# EXIT trap: calls rc_before_cleanup <exit status> when the sourcing script defines it, then
# rc_cleanup. The script's exit status is kept.
rc_on_exit() {
  local status=$?
  if declare -F rc_before_cleanup >/dev/null; then
    rc_before_cleanup "$status" || true
  fi
  rc_cleanup
}

# Creates $RC_TMP (readable by the postgres user) and installs the cleanup traps, once.
rc_tmpdir() {
  if [[ -n $RC_TMP ]]; then
    return 0
  fi
  RC_TMP="$(mktemp -d "${TMPDIR:-/tmp}/rediscache.XXXXXX")"
  chmod 755 "$RC_TMP"
  trap rc_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Prints a TCP port that is free on 127.0.0.1 right now.
rc_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts the shared redis-server and exports REDISCACHE_TEST_REDIS_HOST/PORT/SERVER.
rc_start_redis() {
  rc_tmpdir
  local server port dir attempt pid i
  server="$(command -v redis-server)" || rc_die "redis-server not found"
  dir="$RC_TMP/redis"
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    port="$(rc_free_port)"
    rm -f "$dir/redis.pid"
    "$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --enable-debug-command local || true
    for ((i = 0; i < 50; i++)); do
      # The PID check makes sure the server that answers is ours, not one that took the port.
      pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
      if [[ -n $pid ]] && redis-cli -p "$port" info server 2>/dev/null | grep -q "^process_id:$pid"; then
        RC_REDIS_PID="$pid"
        export REDISCACHE_TEST_REDIS_HOST=127.0.0.1
        export REDISCACHE_TEST_REDIS_PORT="$port"
        export REDISCACHE_TEST_REDIS_SERVER="$server"
        rc_log "redis-server $(redis-cli -p "$port" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') on 127.0.0.1:$port (pid $pid)"
        return 0
      fi
      sleep 0.1
    done
    if [[ -n $pid ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rc_log "redis-server did not answer on port $port (attempt $attempt)"
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  rc_die "could not start redis-server"
}

# Runs a command as the postgres user when we are root (initdb refuses root), else as ourselves.
rc_as_postgres() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Starts the shared PostgreSQL with a database rediscache_test and exports REDISCACHE_TEST_PG.
rc_start_postgres() {
  rc_tmpdir
  local dir="$RC_TMP/pg" port attempt
  RC_PG_BIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [[ -x $RC_PG_BIN/initdb ]] || rc_die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin"
  if ((EUID == 0)); then
    install -d -o postgres -g postgres -m 700 "$dir"
  else
    install -d -m 700 "$dir"
  fi
  rc_as_postgres "$RC_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    {
      cat "$dir/initdb.log" >&2
      rc_die "initdb failed"
    }
  for attempt in 1 2 3; do
    port="$(rc_free_port)"
    # fsync=off and friends: a throw-away test database, durability does not matter.
    if rc_as_postgres "$RC_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null; then
      RC_PG_DATA="$dir/data"
      "$RC_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qX \
        -c 'CREATE DATABASE rediscache_test' >/dev/null
      export REDISCACHE_TEST_PG="host=127.0.0.1 port=$port dbname=rediscache_test user=postgres"
      rc_log "PostgreSQL $("$RC_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
      return 0
    fi
    rc_log "PostgreSQL did not start on port $port (attempt $attempt)"
  done
  tail -n 20 "$dir/server.log" >&2 || true
  rc_die "could not start PostgreSQL"
}

# Sets RC_TSAN_PREFIX to the command prefix under which ThreadSanitizer programs run here.
# gcc 12's TSan fails with "unexpected memory mapping" when the kernel's mmap ASLR entropy is high
# (vm.mmap_rnd_bits > 28, as on recent kernels): then run without ASLR (setarch -R), or as a last
# resort lower vm.mmap_rnd_bits to 28 until cleanup.
rc_tsan_prefix() {
  local cxx="${1:-c++}"
  rc_tmpdir
  local probe="$RC_TMP/tsan-probe"
  printf '%s\n' '#include <thread>' 'int x = 0;' \
    'int main() { std::thread t([] { x = 1; }); t.join(); return x == 1 ? 0 : 1; }' >"$probe.cpp"
  "$cxx" -std=c++17 -fsanitize=thread -g "$probe.cpp" -o "$probe" ||
    rc_die "cannot build a ThreadSanitizer probe with $cxx"
  RC_TSAN_PREFIX=()
  if "$probe" >"$probe.log" 2>&1; then
    return 0
  fi
  rc_log "ThreadSanitizer fails with ASLR on ($(head -n 1 "$probe.log")); trying setarch -R"
  if setarch "$(uname -m)" -R "$probe" >"$probe.log" 2>&1; then
    RC_TSAN_PREFIX=(setarch "$(uname -m)" -R)
    return 0
  fi
  local bits
  bits="$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || true)"
  if ((EUID == 0)) && [[ -n $bits ]] && ((bits > 28)) &&
    sysctl -q -w vm.mmap_rnd_bits=28 >/dev/null 2>&1; then
    RC_RESTORE_MMAP_RND_BITS="$bits"
    if "$probe" >"$probe.log" 2>&1; then
      rc_log "lowered vm.mmap_rnd_bits from $bits to 28 for ThreadSanitizer (restored at exit)"
      return 0
    fi
  fi
  cat "$probe.log" >&2
  rc_die "ThreadSanitizer does not work on this machine"
}

# rc_configure <build-dir> <cmake args...>: configures with Ninja, starting over when the
# directory was configured with another generator.
rc_configure() {
  local dir="$1"
  shift
  if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  cmake -S . -B "$dir" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@"
}
