# lib-pg.sh - a throw-away PostgreSQL cluster for the end-to-end tests (Debian's
# postgresql package): initdb into a temporary directory, a server that listens on a Unix
# socket only (no TCP port), stopped by the caller's cleanup. Sourced after lib.sh.
#
# pg_start SOCKDIR: starts a cluster whose socket is in SOCKDIR (created, world-usable) and
#   sets PG_BIN, PG_DATA, PG_SOCK; returns 1 (with a reason on stdout) when PostgreSQL is
#   not installed or cannot start. Call it in the test's own shell, never in $(...).
# pg_createdb NAME: an empty database NAME owned by the cluster's superuser `postgres`.
# pg_url NAME: a SQLAlchemy URL (psycopg 3) for NAME over the socket, as seen from a chroot
#   whose root is PG_CHROOT (empty: the host).
# pg_stop: stops the server (fast shutdown), idempotent.
PG_BIN= PG_DATA= PG_SOCK= PG_CHROOT=${PG_CHROOT:-}

pg_start() {
        PG_SOCK=$1
        PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
                echo "PostgreSQL is not installed (Debian's postgresql package)"; return 1
        fi
        id postgres >/dev/null 2>&1 || { echo "no postgres user"; return 1; }
        PG_DATA=$(mktemp -d "${TMPDIR:-/tmp}/codegend-pg.XXXXXX")
        mkdir -p "$PG_SOCK"
        chown postgres "$PG_DATA" "$PG_SOCK"
        chmod 0755 "$PG_SOCK"
        runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA/data" -A trust -U postgres \
                --no-sync >"$PG_DATA/initdb.log" 2>&1 || { cat "$PG_DATA/initdb.log"; return 1; }
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w -t 60 \
                -o "-c listen_addresses='' -c unix_socket_directories='$PG_SOCK' -c fsync=off -c max_connections=50" \
                start >/dev/null 2>&1 || { tail -20 "$PG_DATA/server.log"; return 1; }
        return 0
}

pg_psql() { runuser -u postgres -- "$PG_BIN/psql" -h "$PG_SOCK" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

pg_createdb() { pg_psql -d postgres -c "CREATE DATABASE \"$1\""; }

pg_url() {
        sock=$PG_SOCK
        [ -n "$PG_CHROOT" ] && sock=${PG_SOCK#"$PG_CHROOT"}
        echo "postgresql+psycopg://postgres@/$1?host=$sock"
}

pg_stop() {
        if [ -n "$PG_DATA" ] && [ -d "$PG_DATA/data" ]; then
                runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast -w stop >/dev/null 2>&1
                rm -rf "$PG_DATA"
        fi
        PG_DATA=
}
