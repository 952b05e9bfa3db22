# Shared by scripts/test, scripts/stack and bench/*: install (as root, via apt) and start throw-away
# local servers on free loopback ports. Every function is idempotent; stop_services undoes start_*.
# shellcheck shell=bash

EMPORIUM_STACK_DIR="${EMPORIUM_STACK_DIR:-$(mktemp -d /tmp/emporium-stack.XXXXXX)}"
chmod 755 "$EMPORIUM_STACK_DIR"
_apt_updated=""

log() { printf '[stack] %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ensure_packages PKG... : apt-get install what is missing (root only; otherwise say what is needed).
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
    return 1
  fi
  if [ -z "$_apt_updated" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    _apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Runs a command as the owner of the server's files: postgres refuses to run as root.
_as_service_user() {
  local user="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# start_postgres: a fresh PostgreSQL 15 cluster; exports EMPORIUM_TEST_POSTGRES (maintenance DB connection).
start_postgres() {
  ensure_packages postgresql postgresql-contrib
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  local dir="$EMPORIUM_STACK_DIR/postgres" port
  port="$(free_port)"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  _as_service_user postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$EMPORIUM_STACK_DIR/postgres-initdb.log" 2>&1 \
    || { cat "$EMPORIUM_STACK_DIR/postgres-initdb.log" >&2; return 1; }
  # Durability settings are off: these clusters hold test data only and are thrown away.
  _as_service_user postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${EMPORIUM_PG_OPTIONS:-}" \
    start >&2 || { cat "$dir/server.log" >&2; return 1; }
  echo "$bin/pg_ctl -D $dir/data -m immediate stop" >>"$EMPORIUM_STACK_DIR/stop-commands"
  export EMPORIUM_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
  export EMPORIUM_PG_PORT="$port"
  log "PostgreSQL on 127.0.0.1:$port (data in $dir)"
}

# ensure_packages for a daemon whose package would start a system-wide instance (with no systemd, through its
# init script): a policy-rc.d answering 101 ("action forbidden", Debian's documented switch, present in Docker's
# Debian images) keeps it stopped, and a failing init script from failing the install.
_install_without_starting() {
  local policy=/usr/sbin/policy-rc.d created="" status=0
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created=1
  fi
  ensure_packages "$@" || status=$?
  [ -n "$created" ] && rm -f "$policy"
  return "$status"
}

# start_rabbitmq: a throw-away RabbitMQ node (and its own epmd) on free loopback ports, nothing shared with a
# system broker; exports EMPORIUM_TEST_RABBITMQ (the guest account, which RabbitMQ allows on loopback only) and
# EMPORIUM_TEST_RABBITMQCTL (the rabbitmqctl command line for that node).
start_rabbitmq() {
  _install_without_starting rabbitmq-server
  local dir="$EMPORIUM_STACK_DIR/rabbitmq" port dist epmd_port node
  port="$(free_port)"; dist="$(free_port)"; epmd_port="$(free_port)"
  node="emporium-$$-$RANDOM@localhost"
  mkdir -p "$dir/mnesia" "$dir/log"
  printf '[].\n' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  # A test node on a nearly full disk must not block publishers (the default alarm is at 50 MB free).
  printf 'disk_free_limit.absolute = 1MB\n' >"$dir/rabbitmq.conf"
  # The CLI tools authenticate to the node with the cookie in $HOME; both run as the owner of these files.
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/.erlang.cookie"
  chmod 400 "$dir/.erlang.cookie"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; as=(runuser -u rabbitmq --); fi
  local env=("${as[@]}" env HOME="$dir" ERL_EPMD_PORT="$epmd_port" ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$dist"
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    RABBITMQ_FEATURE_FLAGS_FILE="$dir/feature_flags" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config")
  # epmd first, on its own port and in its own process group, so the node does not start a shared one
  # that would outlive the stack.
  setsid "${env[@]}" epmd -port "$epmd_port" -address 127.0.0.1 >"$dir/epmd.log" 2>&1 &
  local epmd_pid=$!
  setsid "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/server.log" 2>&1 &
  local pid=$!
  # SIGTERM makes the Erlang VM shut down cleanly; whatever is left after 10 s is killed, then its epmd.
  echo "kill -- -$pid; for _ in \$(seq 100); do kill -0 -- -$pid || break; sleep 0.1; done; kill -KILL -- -$pid; kill -- -$epmd_pid" \
    >>"$EMPORIUM_STACK_DIR/stop-commands"
  local deadline=$((SECONDS + 90))
  until "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" -q await_startup --timeout 10 >"$dir/await.log" 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      log "RabbitMQ did not start within 90 s:"; cat "$dir/server.log" "$dir/await.log" >&2
      tail -n 30 "$dir"/log/*.log >&2 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
  export EMPORIUM_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$port/"
  # For tests that act on the broker (closing a connection to prove that clients recover): a shell prefix.
  EMPORIUM_TEST_RABBITMQCTL="$(printf '%q ' "${env[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node")"
  export EMPORIUM_TEST_RABBITMQCTL
  log "RabbitMQ on 127.0.0.1:$port (node $node, data in $dir)"
}

# _await_server PID PORT NAME LOG: registers the server's process group for stop_services and waits (30 s at most) until
# it accepts connections on the loopback PORT; on failure prints its LOG and returns 1.
_await_server() {
  local pid="$1" port="$2" name="$3" server_log="$4"
  echo "kill -- -$pid" >>"$EMPORIUM_STACK_DIR/stop-commands"
  local deadline=$((SECONDS + 30))
  until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      log "$name did not start within 30 s:"; cat "$server_log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# start_s3rver: an S3-compatible server (s3rver from npm, run by Node.js) on a free loopback port with the bucket
# "emporium"; exports EMPORIUM_TEST_S3 (its endpoint URL). s3rver is installed once into a cache folder.
start_s3rver() {
  command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
  local version=3.7.1
  local tools="${EMPORIUM_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/emporium}/s3rver-$version"
  if [ ! -e "$tools/node_modules/s3rver/bin/s3rver.js" ]; then
    log "installing s3rver $version from npm into $tools"
    mkdir -p "$tools"
    (cd "$tools" && npm install --no-audit --no-fund --loglevel=error "s3rver@$version" >&2)
  fi
  local dir="$EMPORIUM_STACK_DIR/s3rver" port
  port="$(free_port)"
  mkdir -p "$dir/data"
  # OpenSSL's legacy provider: s3rver makes ListObjectsV2 continuation tokens with DES, which Node 17+ refuses
  # otherwise, and every truncated listing (a bucket with more keys than max-keys) would answer 500.
  setsid node --openssl-legacy-provider "$tools/node_modules/s3rver/bin/s3rver.js" -d "$dir/data" -a 127.0.0.1 -p "$port" --silent \
    --configure-bucket emporium >"$dir/server.log" 2>&1 &
  _await_server "$!" "$port" s3rver "$dir/server.log" || return 1
  export EMPORIUM_TEST_S3="http://127.0.0.1:$port"
  log "s3rver on 127.0.0.1:$port (bucket emporium, data in $dir)"
}

# start_redis: Debian's redis-server on a free loopback port, without persistence; exports EMPORIUM_TEST_REDIS (host:port)
# and EMPORIUM_TEST_REDIS_SERVER (the binary, for tests that start, stop and restart a Redis of their own).
start_redis() {
  _install_without_starting redis-server
  local dir="$EMPORIUM_STACK_DIR/redis" port
  port="$(free_port)"
  mkdir -p "$dir"
  setsid /usr/bin/redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
    --protected-mode yes --daemonize no >"$dir/server.log" 2>&1 &
  _await_server "$!" "$port" redis-server "$dir/server.log" || return 1
  export EMPORIUM_TEST_REDIS="127.0.0.1:$port" EMPORIUM_TEST_REDIS_SERVER=/usr/bin/redis-server
  log "Redis on 127.0.0.1:$port (no persistence)"
}

# start_smtp: a real SMTP server (Debian's python3-aiosmtpd) on a free loopback port that stores every message it accepts
# in a Maildir; exports EMPORIUM_TEST_SMTP (host:port) and EMPORIUM_TEST_MAILDIR (the Maildir's folder).
start_smtp() {
  ensure_packages python3-aiosmtpd
  local dir="$EMPORIUM_STACK_DIR/smtp" port
  port="$(free_port)"
  mkdir -p "$dir"
  # Debian's own interpreter: the package installs into it, whatever python3 comes first on the PATH.
  setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/server.log" 2>&1 &
  _await_server "$!" "$port" aiosmtpd "$dir/server.log" || return 1
  export EMPORIUM_TEST_SMTP="127.0.0.1:$port" EMPORIUM_TEST_MAILDIR="$dir/maildir"
  log "SMTP (aiosmtpd) on 127.0.0.1:$port (messages in $dir/maildir)"
}

# install_openapi_linters: Spectral (oas rules) and Redocly (recommended rules), the linters the OpenAPI document must
# satisfy, installed once from npm into a cache folder; exports EMPORIUM_TEST_LINTERS (their bin folder).
install_openapi_linters() {
  command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
  local tools="${EMPORIUM_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/emporium}/openapi-linters-spectral-6.16.3-redocly-2.77.0"
  if [ ! -x "$tools/node_modules/.bin/spectral" ] || [ ! -x "$tools/node_modules/.bin/redocly" ]; then
    log "installing Spectral 6.16.3 and Redocly CLI 2.77.0 from npm into $tools"
    mkdir -p "$tools"
    (cd "$tools" && npm install --no-audit --no-fund --loglevel=error @stoplight/spectral-cli@6.16.3 @redocly/cli@2.77.0 >&2)
  fi
  export EMPORIUM_TEST_LINTERS="$tools/node_modules/.bin"
}

stop_services() {
  local file="$EMPORIUM_STACK_DIR/stop-commands"
  if [ -f "$file" ]; then
    while read -r line; do
      if [[ "$line" == */pg_ctl* ]]; then _as_service_user postgres $line >/dev/null 2>&1 || true; else eval "$line" </dev/null >/dev/null 2>&1 || true; fi
    done <"$file"
    rm -f "$file"
  fi
  rm -rf "$EMPORIUM_STACK_DIR"
}
