#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: initdb into a directory, serve on one
# loopback port, stop and remove it afterwards. Nothing outside the directory
# is touched; the server listens on 127.0.0.1 only, with trust auth for the
# superuser `quorum`.
#
#   postgres.sh bindir                  where the binaries are (or why not)
#   postgres.sh start DIR PORT [durable]
#                                       initdb (if DIR has no cluster yet) and start
#
# Without `durable` the server does not wait for the disk at commit
# (fsync=off, synchronous_commit=off): no test crashes PostgreSQL itself (its
# outage test shuts it down cleanly, which writes everything), and this disk
# manages about 200 flushes a second. Benchmarks pass `durable`.
#   postgres.sh start-ssl DIR PORT CERT KEY
#                                       the same, with TLS on (ssl=on) using the PEM
#                                       server certificate CERT and its key KEY (copied
#                                       into DIR/ssl for the server's user). pg_hba
#                                       stays as initdb wrote it, accepting plaintext
#                                       too, so a client that fell back to plaintext
#                                       would be seen connecting.
#   postgres.sh stop DIR                fast shutdown, keeping DIR (an outage)
#   postgres.sh destroy DIR             immediate shutdown and remove DIR
#
# initdb and postgres refuse to run as root; as root, they run as the
# `postgres` user (created by the Debian package) or a `quorum-pg` system
# user created here.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bindir() {
  local candidates=()
  if command -v pg_config >/dev/null 2>&1; then
    candidates+=("$(pg_config --bindir 2>/dev/null || true)")
  fi
  # Newest version first.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
    candidates+=("$dir")
  done
  if command -v initdb >/dev/null 2>&1; then
    candidates+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
  fi
  for dir in "${candidates[@]}"; do
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
      echo "$dir"
      return 0
    fi
  done
  die "no PostgreSQL binaries (initdb, pg_ctl, postgres) found via pg_config --bindir, /usr/lib/postgresql/*/bin or PATH; install them (Debian: apt-get install postgresql), as .ci/run does"
}

# Runs a command as the unprivileged owner of the cluster.
as_owner() {
  if [[ "$(id -u)" != 0 ]]; then
    "$@"
    return
  fi
  local user=postgres
  if ! id "$user" >/dev/null 2>&1; then
    user=quorum-pg
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" \
      || die "cannot create the unprivileged user $user to run PostgreSQL as (initdb refuses root)"
  fi
  if command -v runuser >/dev/null 2>&1; then
    runuser -u "$user" -- "$@"
  else
    su "$user" -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

owner_of_cluster() {
  if [[ "$(id -u)" != 0 ]]; then id -un; elif id postgres >/dev/null 2>&1; then echo postgres; else echo quorum-pg; fi
}

# initdb (if DIR has no cluster yet) and start on PORT with extra SETTINGS.
start_server() {
  local dir=$1 port=$2 settings=$3 bin
  bin=$(find_bindir)
  mkdir -p "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner true 2>/dev/null || true
    chown "$(owner_of_cluster)" "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U quorum --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || die "initdb failed: $(tail -5 "$dir/initdb.log")"
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c shared_buffers=64MB $settings" start >/dev/null \
    || die "PostgreSQL did not start on port $port: $(tail -5 "$dir/server.log" 2>/dev/null)"
}

cmd=${1:-}
case "$cmd" in
  bindir)
    find_bindir
    ;;
  start)
    dir=${2:?usage: postgres.sh start DIR PORT}
    port=${3:?usage: postgres.sh start DIR PORT [durable]}
    settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${4:-}" == durable ]] && settings=""
    start_server "$dir" "$port" "$settings"
    ;;
  start-ssl)
    dir=${2:?usage: postgres.sh start-ssl DIR PORT CERT KEY}
    port=${3:?usage: postgres.sh start-ssl DIR PORT CERT KEY}
    cert=${4:?usage: postgres.sh start-ssl DIR PORT CERT KEY}
    key=${5:?usage: postgres.sh start-ssl DIR PORT CERT KEY}
    mkdir -p "$dir/ssl"
    cp "$cert" "$dir/ssl/server.crt" || die "cannot copy the server certificate $cert"
    cp "$key" "$dir/ssl/server.key" || die "cannot copy the server key $key"
    # PostgreSQL refuses a key others can read.
    chmod 600 "$dir/ssl/server.key"
    chown -R "$(owner_of_cluster)" "$dir/ssl" 2>/dev/null || true
    start_server "$dir" "$port" "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file=$dir/ssl/server.crt -c ssl_key_file=$dir/ssl/server.key"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    bin=$(find_bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null
    ;;
  destroy)
    dir=${2:?usage: postgres.sh destroy DIR}
    bin=$(find_bindir)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m immediate stop >/dev/null 2>&1 || true
    fi
    # Exiting backends may still be removing their files: try a few times.
    for _ in 1 2 3 4 5; do
      rm -rf "$dir" 2>/dev/null && [[ ! -e "$dir" ]] && break
      sleep 0.2
    done
    [[ ! -e "$dir" ]] || die "could not remove $dir"
    ;;
  *)
    die "usage: postgres.sh bindir | start DIR PORT | start-ssl DIR PORT CERT KEY | stop DIR | destroy DIR"
    ;;
esac
