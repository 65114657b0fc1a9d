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
  libcpp-httplib-dev wrk prometheus
  openssl libssl-dev
  python3 python3-redis
  clang-format clang-tidy clang libclang-rt-14-dev
  util-linux procps
)

# Set by rc_tsan_prefix, read by the scripts that source this file.
RC_TSAN_PREFIX=()
RC_TMP=""
RC_REDIS_PID=""
RC_EXTRA_PIDS=()  # cluster nodes, sentinel master/replica and sentinels
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
  if ((${#RC_EXTRA_PIDS[@]})); then
    local pid
    for pid in "${RC_EXTRA_PIDS[@]}"; do
      kill -KILL "$pid" 2>/dev/null || true
    done
    RC_EXTRA_PIDS=()
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

# rc_free_ports <n>: prints n distinct TCP ports free on 127.0.0.1 right now, one per line (one
# python start, which is what costs time on a loaded machine).
rc_free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()' "$1"
}

# rc_on_free_port <what> <log> <start>: runs `<start> <port>` on a fresh free port, up to three
# times (another process may take the port between rc_free_port and the bind); after the third
# failure prints the tail of <log> and dies. <start> returns 0 once the server is up.
rc_on_free_port() {
  local what="$1" log="$2" start="$3" attempt port
  for attempt in 1 2 3; do
    port="$(rc_free_port)"
    if "$start" "$port"; then
      return 0
    fi
    rc_log "$what did not start on port $port (attempt $attempt)"
  done
  tail -n 20 "$log" >&2 || true
  rc_die "could not start $what"
}

# Starts the shared redis-server and exports REDISCACHE_TEST_REDIS_HOST/PORT/SERVER.
rc_start_redis() {
  rc_tmpdir
  local server dir
  server="$(command -v redis-server)" || rc_die "redis-server not found"
  dir="$RC_TMP/redis"
  mkdir -p "$dir"
  rc_on_free_port redis-server "$dir/redis.log" rc_try_redis
}

# rc_try_redis <port>: one attempt of rc_start_redis (its `server` and `dir`); 0 once it answers.
rc_try_redis() {
  local port="$1" pid="" i
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
  return 1
}

# rc_spawn_redis <dir> <redis-server args...>: starts a daemonized redis-server (or sentinel)
# with its pidfile and log in <dir>, without waiting; rc_await_redis waits for it.
rc_spawn_redis() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  redis-server "$@" --bind 127.0.0.1 --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" || rc_die "redis-server failed to start in $dir"
}

# rc_await_redis <dir> <port> [redis-cli args...]: waits until the server spawned in <dir>
# answers PING on <port> (with the redis-cli args, e.g. the TLS ones of rc_tls_cli), and records
# its PID for cleanup.
rc_await_redis() {
  local dir="$1" port="$2" pid="" i
  shift 2
  for ((i = 0; i < 200; i++)); do
    pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
    if [[ -n $pid ]] && redis-cli "$@" -p "$port" ping 2>/dev/null | grep -q PONG; then
      RC_EXTRA_PIDS+=("$pid")
      return 0
    fi
    sleep 0.05
  done
  if [[ -n $pid ]]; then
    RC_EXTRA_PIDS+=("$pid")
  fi
  tail -n 20 "$dir/redis.log" >&2 || true
  rc_die "redis-server in $dir did not answer on port $port"
}

# rc_wait_for <seconds> <command...>: polls the command every 0.1 s until it succeeds.
rc_wait_for() {
  local limit=$(($1 * 10)) i
  shift
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

rc_cluster_ok() { redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'; }
rc_replica_up() { redis-cli -p "$1" info replication | grep -q '^master_link_status:up'; }
rc_role_is() { redis-cli -p "$1" role | head -n 1 | grep -qx "$2"; }

# Starts a Redis Cluster of 3 masters and 3 replicas (each node in its own dir, the cluster bus
# on a port of its own) and exports REDISCACHE_TEST_CLUSTER_SEEDS="127.0.0.1:p1,...". Returns
# once every node reports cluster_state:ok and every replica is in sync (about 3 s).
rc_start_cluster() {
  rc_tmpdir
  local i port ports=() free=() addresses=() seeds=""
  mapfile -t free < <(rc_free_ports 12)
  for ((i = 0; i < 6; i++)); do
    port="${free[$((2 * i))]}"
    rc_spawn_redis "$RC_TMP/cluster/$i" --port "$port" --cluster-enabled yes \
      --cluster-port "${free[$((2 * i + 1))]}" --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000 --save '' --appendonly no --repl-diskless-sync-delay 0 \
      --enable-debug-command local
    ports+=("$port")
    addresses+=("127.0.0.1:$port")
    seeds+="${seeds:+,}127.0.0.1:$port"
  done
  for ((i = 0; i < 6; i++)); do
    rc_await_redis "$RC_TMP/cluster/$i" "${ports[$i]}"
  done
  redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes \
    >"$RC_TMP/cluster/create.log" 2>&1 || {
    cat "$RC_TMP/cluster/create.log" >&2
    rc_die "redis-cli --cluster create failed"
  }
  for port in "${ports[@]}"; do
    rc_wait_for 20 rc_cluster_ok "$port" || rc_die "cluster node $port never reached cluster_state:ok"
  done
  for port in "${ports[@]}"; do
    if redis-cli -p "$port" role | head -n 1 | grep -qx slave; then
      rc_wait_for 20 rc_replica_up "$port" || rc_die "cluster replica $port never synced"
    fi
  done
  export REDISCACHE_TEST_CLUSTER_SEEDS="$seeds"
  rc_log "redis cluster (3 masters + 3 replicas) on $seeds"
}

# Starts a master, a replica and three sentinels monitoring them as "mymaster", and exports
# REDISCACHE_TEST_SENTINELS="127.0.0.1:s1,..." and REDISCACHE_TEST_SENTINEL_MASTER=mymaster.
# Returns once every sentinel knows the replica (about 2 s).
rc_start_sentinel() {
  rc_tmpdir
  local master replica port i dir free=() sentinels=""
  mapfile -t free < <(rc_free_ports 5)
  master="${free[0]}"
  replica="${free[1]}"
  rc_spawn_redis "$RC_TMP/sentinel/master" --port "$master" --save '' --appendonly no \
    --repl-diskless-sync-delay 0
  rc_spawn_redis "$RC_TMP/sentinel/replica" --port "$replica" --save '' --appendonly no \
    --repl-diskless-sync-delay 0 --replicaof 127.0.0.1 "$master"
  rc_await_redis "$RC_TMP/sentinel/master" "$master"
  rc_await_redis "$RC_TMP/sentinel/replica" "$replica"
  # Sentinels discover a replica only once it is linked; before that discovery takes ~10 s.
  rc_wait_for 20 rc_replica_up "$replica" || rc_die "sentinel replica never synced"
  for ((i = 0; i < 3; i++)); do
    port="${free[$((2 + i))]}"
    dir="$RC_TMP/sentinel/s$i"
    mkdir -p "$dir"
    printf '%s\n' "port $port" "bind 127.0.0.1" \
      "sentinel monitor mymaster 127.0.0.1 $master 2" \
      "sentinel down-after-milliseconds mymaster 1000" \
      "sentinel failover-timeout mymaster 10000" >"$dir/sentinel.conf"
    # The config file must come first; sentinels rewrite it, so each has its own.
    rc_spawn_redis "$dir" "$dir/sentinel.conf" --sentinel --port "$port"
    sentinels+="${sentinels:+,}127.0.0.1:$port"
  done
  for ((i = 0; i < 3; i++)); do
    port="${free[$((2 + i))]}"
    rc_await_redis "$RC_TMP/sentinel/s$i" "$port"
  done
  for ((i = 0; i < 3; i++)); do
    port="${free[$((2 + i))]}"
    rc_wait_for 20 rc_sentinel_sees_replica "$port" ||
      rc_die "sentinel $port never discovered the replica"
  done
  export REDISCACHE_TEST_SENTINELS="$sentinels"
  export REDISCACHE_TEST_SENTINEL_MASTER=mymaster
  rc_log "redis sentinel: master 127.0.0.1:$master, replica $replica, sentinels $sentinels"
}

rc_sentinel_sees_replica() {
  redis-cli -p "$1" sentinel replicas mymaster | grep -q '^slave$\|^flags$' &&
    [[ "$(redis-cli -p "$1" sentinel master mymaster | sed -n '/^num-other-sentinels$/{n;p}')" == 2 ]]
}

# ---- TLS -------------------------------------------------------------------------------------
# Throw-away certificates (rc_make_certs) and TLS servers: a TLS redis-server, an mTLS one
# (client certificates required), one with an expired certificate, one whose certificate names
# another host, a TLS Redis Cluster and a TLS sentinel set-up. Every TLS server here has its plain
# port off (--port 0), as hosted Redis services do. Addresses and certificate paths are exported
# as REDISCACHE_TEST_TLS_*; tests/support/test_env.hpp reads them.

# rc_tls_cli [--mtls]: redis-cli arguments for the TLS servers here (the test CA; with --mtls
# also the client certificate).
rc_tls_cli() {
  local d="$RC_TMP/tls"
  local args=(--tls --cacert "$d/ca.crt")
  if [[ ${1:-} == --mtls ]]; then
    args+=(--cert "$d/client.crt" --key "$d/client.key")
  fi
  printf '%s\n' "${args[@]}"
}

rc_tls_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }

# Creates in $RC_TMP/tls (once; about 0.3 s with EC P-256 keys): a CA (ca.crt); a server
# certificate signed by it for DNS:localhost and IP:127.0.0.1 (server.crt, server.key); a client
# certificate (client.crt, client.key); an expired server certificate (expired.crt, valid only
# on 2020-01-01, made with `openssl ca` since `openssl x509` here sets no start date); one for
# DNS:wrong.example only (wrong-host.crt); a self-signed one for localhost (self-signed.crt);
# a second, unrelated CA (wrong-ca.crt); and ca-dir/, the CA as a hashed directory (ca_dir).
# The server certificates share server.key. Exports their paths as REDISCACHE_TEST_TLS_*_FILE.
rc_make_certs() {
  rc_tmpdir
  local d="$RC_TMP/tls"
  if [[ -f $d/ca.crt ]]; then
    return 0
  fi
  command -v openssl >/dev/null || rc_die "openssl not found"
  mkdir -p "$d/ca-db" "$d/ca-dir"
  (
    set -e
    cd "$d"
    exec 2>"$d/openssl.log"
    rc_tls_key ca.key
    openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=rediscache-test-ca
    rc_tls_key wrong-ca.key
    openssl req -x509 -new -key wrong-ca.key -out wrong-ca.crt -days 2 -subj /CN=wrong-ca
    rc_tls_key server.key
    openssl req -new -key server.key -out server.csr -subj /CN=localhost
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >localhost.ext
    printf 'subjectAltName=DNS:wrong.example\n' >wrong-host.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 \
      -extfile localhost.ext -out server.crt
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 2 \
      -extfile wrong-host.ext -out wrong-host.crt
    openssl req -x509 -new -key server.key -out self-signed.crt -days 2 -subj /CN=localhost \
      -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1'
    rc_tls_key client.key
    openssl req -new -key client.key -out client.csr -subj /CN=rediscache-test-client
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -set_serial 4 -days 2 \
      -out client.crt
    # The expired certificate: `openssl ca` takes explicit start and end dates.
    : >ca-db/index.txt
    echo 10 >ca-db/serial
    printf '%s\n' '[ca]' 'default_ca = test_ca' '[test_ca]' 'database = ca-db/index.txt' \
      'new_certs_dir = ca-db' 'serial = ca-db/serial' 'default_md = sha256' 'policy = any' \
      'x509_extensions = server_ext' '[any]' 'commonName = supplied' '[server_ext]' \
      'subjectAltName = DNS:localhost,IP:127.0.0.1' >ca.cnf
    openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in server.csr -notext \
      -startdate 20200101000000Z -enddate 20200102000000Z -out expired.crt
    cp ca.crt ca-dir/
    openssl rehash ca-dir
  ) || {
    cat "$d/openssl.log" >&2
    rc_die "creating the test certificates failed"
  }
  export REDISCACHE_TEST_TLS_CA_FILE="$d/ca.crt"
  export REDISCACHE_TEST_TLS_CA_DIR="$d/ca-dir"
  export REDISCACHE_TEST_TLS_CERT_FILE="$d/server.crt"
  export REDISCACHE_TEST_TLS_KEY_FILE="$d/server.key"
  export REDISCACHE_TEST_TLS_CLIENT_CERT_FILE="$d/client.crt"
  export REDISCACHE_TEST_TLS_CLIENT_KEY_FILE="$d/client.key"
  export REDISCACHE_TEST_TLS_EXPIRED_CERT_FILE="$d/expired.crt"
  export REDISCACHE_TEST_TLS_WRONG_HOST_CERT_FILE="$d/wrong-host.crt"
  export REDISCACHE_TEST_TLS_SELF_SIGNED_CERT_FILE="$d/self-signed.crt"
  export REDISCACHE_TEST_TLS_WRONG_CA_FILE="$d/wrong-ca.crt"
  rc_log "test certificates in $d"
}

# rc_tls_server_args <cert> <auth-clients yes|no>: redis-server arguments for a TLS-only server.
rc_tls_server_args() {
  local d="$RC_TMP/tls"
  printf '%s\n' --port 0 --tls-cert-file "$1" --tls-key-file "$d/server.key" \
    --tls-ca-cert-file "$d/ca.crt" --tls-auth-clients "$2"
}

# rc_spawn_tls_redis <name> <port> <cert> <auth-clients>: spawns a TLS-only redis-server in
# $RC_TMP/<name> (rc_await_tls_redis waits for it).
rc_spawn_tls_redis() {
  local args=()
  mapfile -t args < <(rc_tls_server_args "$3" "$4")
  rc_spawn_redis "$RC_TMP/$1" --tls-port "$2" "${args[@]}" --save '' --appendonly no \
    --enable-debug-command local
}

# rc_await_tls_redis <dir> <port>: rc_await_redis through TLS (the client certificate is always
# sent, so this works for mTLS servers too; --insecure because two of them have bad certificates
# on purpose).
rc_await_tls_redis() {
  local d="$RC_TMP/tls"
  rc_await_redis "$1" "$2" --tls --insecure --cert "$d/client.crt" --key "$d/client.key"
}

# Starts four TLS-only redis-servers and exports REDISCACHE_TEST_TLS_HOST (127.0.0.1) and
#   REDISCACHE_TEST_TLS_PORT             valid certificate, client certificates not required
#   REDISCACHE_TEST_TLS_MTLS_PORT        valid certificate, client certificates required
#   REDISCACHE_TEST_TLS_EXPIRED_PORT     the expired certificate
#   REDISCACHE_TEST_TLS_WRONG_HOST_PORT  a certificate for wrong.example only
# (about 0.2 s after the certificates).
rc_start_tls_redis() {
  rc_make_certs
  local d="$RC_TMP/tls" free=() names=(tls-server mtls-server tls-expired tls-wrong-host) i
  mapfile -t free < <(rc_free_ports 4)
  rc_spawn_tls_redis tls-server "${free[0]}" "$d/server.crt" no
  rc_spawn_tls_redis mtls-server "${free[1]}" "$d/server.crt" yes
  rc_spawn_tls_redis tls-expired "${free[2]}" "$d/expired.crt" no
  rc_spawn_tls_redis tls-wrong-host "${free[3]}" "$d/wrong-host.crt" no
  for i in 0 1 2 3; do
    rc_await_tls_redis "$RC_TMP/${names[$i]}" "${free[$i]}"
  done
  export REDISCACHE_TEST_TLS_HOST=127.0.0.1
  export REDISCACHE_TEST_TLS_PORT="${free[0]}"
  export REDISCACHE_TEST_TLS_MTLS_PORT="${free[1]}"
  export REDISCACHE_TEST_TLS_EXPIRED_PORT="${free[2]}"
  export REDISCACHE_TEST_TLS_WRONG_HOST_PORT="${free[3]}"
  rc_log "TLS redis-servers on 127.0.0.1: tls ${free[0]}, mtls ${free[1]}, expired ${free[2]}, wrong host ${free[3]}"
}

rc_tls_redis_cli() { redis-cli --tls --cacert "$RC_TMP/tls/ca.crt" "$@"; }
rc_tls_cluster_ok() { rc_tls_redis_cli -p "$1" cluster info | grep -q '^cluster_state:ok'; }
rc_tls_replica_up() { rc_tls_redis_cli -p "$1" info replication | grep -q '^master_link_status:up'; }

# Starts a TLS Redis Cluster of 3 masters and 3 replicas (TLS-only: --port 0, tls-cluster and
# tls-replication on, client certificates not required) and exports
# REDISCACHE_TEST_TLS_CLUSTER_SEEDS="127.0.0.1:p1,...". Returns once every node reports
# cluster_state:ok and every replica is in sync, as rc_start_cluster does (about 3 s).
rc_start_tls_cluster() {
  rc_make_certs
  local d="$RC_TMP/tls" i port ports=() free=() addresses=() seeds="" args=()
  mapfile -t args < <(rc_tls_server_args "$d/server.crt" no)
  mapfile -t free < <(rc_free_ports 12)
  for ((i = 0; i < 6; i++)); do
    port="${free[$((2 * i))]}"
    rc_spawn_redis "$RC_TMP/tls-cluster/$i" --tls-port "$port" "${args[@]}" --tls-cluster yes \
      --tls-replication yes --cluster-enabled yes --cluster-port "${free[$((2 * i + 1))]}" \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save '' --appendonly no \
      --repl-diskless-sync-delay 0 --enable-debug-command local
    ports+=("$port")
    addresses+=("127.0.0.1:$port")
    seeds+="${seeds:+,}127.0.0.1:$port"
  done
  for ((i = 0; i < 6; i++)); do
    rc_await_tls_redis "$RC_TMP/tls-cluster/$i" "${ports[$i]}"
  done
  rc_tls_redis_cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes \
    >"$RC_TMP/tls-cluster/create.log" 2>&1 || {
    cat "$RC_TMP/tls-cluster/create.log" >&2
    rc_die "redis-cli --tls --cluster create failed"
  }
  for port in "${ports[@]}"; do
    rc_wait_for 20 rc_tls_cluster_ok "$port" ||
      rc_die "TLS cluster node $port never reached cluster_state:ok"
  done
  for port in "${ports[@]}"; do
    if rc_tls_redis_cli -p "$port" role | head -n 1 | grep -qx slave; then
      rc_wait_for 20 rc_tls_replica_up "$port" || rc_die "TLS cluster replica $port never synced"
    fi
  done
  export REDISCACHE_TEST_TLS_CLUSTER_SEEDS="$seeds"
  rc_log "TLS redis cluster (3 masters + 3 replicas) on $seeds"
}

rc_tls_sentinel_sees_replica() {
  rc_tls_redis_cli -p "$1" sentinel replicas mymaster | grep -q '^slave$\|^flags$' &&
    [[ "$(rc_tls_redis_cli -p "$1" sentinel master mymaster | sed -n '/^num-other-sentinels$/{n;p}')" == 2 ]]
}

# Starts a TLS-only master, replica and three sentinels (sentinels listen on tls-port and reach
# the data nodes and each other over TLS: tls-replication yes) monitoring them as "mymaster", and
# exports REDISCACHE_TEST_TLS_SENTINELS="127.0.0.1:s1,...". Returns once every sentinel knows the
# replica and the other sentinels (about 2 s).
rc_start_tls_sentinel() {
  rc_make_certs
  local d="$RC_TMP/tls" master replica port i dir free=() sentinels="" args=()
  mapfile -t args < <(rc_tls_server_args "$d/server.crt" no)
  mapfile -t free < <(rc_free_ports 5)
  master="${free[0]}"
  replica="${free[1]}"
  rc_spawn_redis "$RC_TMP/tls-sentinel/master" --tls-port "$master" "${args[@]}" \
    --tls-replication yes --save '' --appendonly no --repl-diskless-sync-delay 0
  rc_spawn_redis "$RC_TMP/tls-sentinel/replica" --tls-port "$replica" "${args[@]}" \
    --tls-replication yes --save '' --appendonly no --repl-diskless-sync-delay 0 \
    --replicaof 127.0.0.1 "$master"
  rc_await_tls_redis "$RC_TMP/tls-sentinel/master" "$master"
  rc_await_tls_redis "$RC_TMP/tls-sentinel/replica" "$replica"
  rc_wait_for 20 rc_tls_replica_up "$replica" || rc_die "TLS sentinel replica never synced"
  for ((i = 0; i < 3; i++)); do
    port="${free[$((2 + i))]}"
    dir="$RC_TMP/tls-sentinel/s$i"
    mkdir -p "$dir"
    printf '%s\n' "port 0" "tls-port $port" "bind 127.0.0.1" "tls-replication yes" \
      "tls-cert-file $d/server.crt" "tls-key-file $d/server.key" "tls-ca-cert-file $d/ca.crt" \
      "tls-auth-clients no" \
      "sentinel monitor mymaster 127.0.0.1 $master 2" \
      "sentinel down-after-milliseconds mymaster 1000" \
      "sentinel failover-timeout mymaster 10000" >"$dir/sentinel.conf"
    rc_spawn_redis "$dir" "$dir/sentinel.conf" --sentinel
    sentinels+="${sentinels:+,}127.0.0.1:$port"
  done
  for ((i = 0; i < 3; i++)); do
    rc_await_tls_redis "$RC_TMP/tls-sentinel/s$i" "${free[$((2 + i))]}"
  done
  for ((i = 0; i < 3; i++)); do
    port="${free[$((2 + i))]}"
    rc_wait_for 20 rc_tls_sentinel_sees_replica "$port" ||
      rc_die "TLS sentinel $port never discovered the replica and the other sentinels"
  done
  export REDISCACHE_TEST_TLS_SENTINELS="$sentinels"
  rc_log "TLS redis sentinel: master 127.0.0.1:$master, replica $replica, sentinels $sentinels"
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
  local dir="$RC_TMP/pg"
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
  rc_on_free_port PostgreSQL "$dir/server.log" rc_try_postgres
}

# rc_try_postgres <port>: one attempt of rc_start_postgres (its `dir`); 0 once it serves.
rc_try_postgres() {
  local port="$1"
  # fsync=off and friends: a throw-away test database, durability does not matter.
  rc_as_postgres "$RC_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || return 1
  RC_PG_DATA="$dir/data"
  "$RC_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qX \
    -c 'CREATE DATABASE rediscache_test' >/dev/null
  export REDISCACHE_TEST_PG="host=127.0.0.1 port=$port dbname=rediscache_test user=postgres"
  rc_log "PostgreSQL $("$RC_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
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

# rc_configure_preset <preset> [cmake args...]: configures CMakePresets.json's <preset> (whose
# build dir is build, build-asan, build-tsan or build-bench), starting over when that directory was
# configured with another generator.
rc_configure_preset() {
  local preset="$1" dir
  shift
  case "$preset" in
    plain) dir=build ;;
    *) dir="build-$preset" ;;
  esac
  if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  cmake --preset "$preset" "$@"
}

# rc_check_format: clang-format --dry-run --Werror over every tracked C++ file.
rc_check_format() {
  local files=()
  mapfile -t files < <(git ls-files -- '*.hpp' '*.cpp' '*.h' '*.cc')
  ((${#files[@]})) || return 0
  clang-format --dry-run --Werror "${files[@]}"
  echo "clang-format: ${#files[@]} files clean"
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
