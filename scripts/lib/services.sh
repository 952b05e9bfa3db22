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
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >&2 || { cat "$dir/server.log" >&2; return 1; }
  echo "$bin/pg_ctl -D $dir/data -m immediate stop" >>"$EMPORIUM_STACK_DIR/stop-commands"
  export EMPORIUM_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
  export EMPORIUM_PG_PORT="$port"
  log "PostgreSQL on 127.0.0.1:$port (data in $dir)"
}

stop_services() {
  local file="$EMPORIUM_STACK_DIR/stop-commands"
  if [ -f "$file" ]; then
    while read -r line; do
      if [[ "$line" == */pg_ctl* ]]; then _as_service_user postgres $line >/dev/null 2>&1 || true; else eval "$line" >/dev/null 2>&1 || true; fi
    done <"$file"
    rm -f "$file"
  fi
  rm -rf "$EMPORIUM_STACK_DIR"
}
