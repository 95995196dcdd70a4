#!/bin/sh
# ensure-postgres.sh makes sure a local PostgreSQL server accepts
# password-less TCP connections as the superuser "postgres" on 127.0.0.1,
# which is what the local stack's default DATABASE_URL expects:
#
#   postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#
# When DATABASE_URL names another server it only checks that it answers.
#
# It is idempotent. When the server already answers it changes nothing.
# Otherwise, as root on a Debian-like system, it installs PostgreSQL if the
# server is missing, creates and starts a cluster, and adds a "trust" rule for
# loopback TCP connections to pg_hba.conf. Run as another user it prints the
# commands to run and exits non-zero.
set -eu

PORT="${PGPORT:-5432}"
URL="postgres://postgres@127.0.0.1:${PORT}/postgres?sslmode=disable"
MARK="# added by localstack/scripts/ensure-postgres.sh"

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

# can_connect checks that the server at URL $1 lets us in. -w: never wait
# for a password prompt (stock Debian asks for one on 127.0.0.1 until the
# trust rule below is added).
can_connect() {
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=5 psql -w "$1" -XAtqc 'select 1' >/dev/null 2>&1
		return
	fi
	isready="$(command -v pg_isready 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_isready 2>/dev/null | tail -n 1)"
	if [ -n "$isready" ] && PGCONNECT_TIMEOUT=5 "$isready" -q -t 5 -d "$1"; then
		log "psql not installed: PostgreSQL answers (pg_isready), but logging in was not checked"
		return 0
	fi
	log "psql not installed, and the server does not answer"
	return 1
}

# A DATABASE_URL of the user's own is only checked, never set up.
if [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$URL" ]; then
	shown="$(printf '%s' "$DATABASE_URL" | sed 's#://\([^:/@]*\):[^@]*@#://\1:xxxxx@#')"
	if can_connect "$DATABASE_URL"; then
		log "PostgreSQL is ready at $shown"
		exit 0
	fi
	log "cannot connect to DATABASE_URL ($shown); unset it to use a local server set up by this script"
	exit 1
fi

if can_connect "$URL"; then
	log "PostgreSQL is ready at 127.0.0.1:${PORT}"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	cat >&2 <<MSG
ensure-postgres: cannot connect to $URL
and this script needs root to fix that. Run, as root (or with sudo):

  apt-get update && apt-get install -y postgresql postgresql-client
  pg_ctlcluster \$(pg_lsclusters -h | awk '\$3==$PORT {print \$1, \$2}') start
  # let local TCP connections in without a password (development machines only):
  sed -i '1i host all all 127.0.0.1/32 trust' /etc/postgresql/*/main/pg_hba.conf
  pg_ctlcluster \$(pg_lsclusters -h | awk '\$3==$PORT {print \$1, \$2}') reload

or point DATABASE_URL at a PostgreSQL superuser you already have.
MSG
	exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
	log "installing PostgreSQL"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql postgresql-client
fi

# Pick the cluster on $PORT, creating one when there is none.
cluster="$(pg_lsclusters -h 2>/dev/null | awk -v p="$PORT" '$3 == p {print $1, $2; exit}')"
if [ -z "$cluster" ]; then
	ver="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
	name=main
	if [ -d "/etc/postgresql/$ver/main" ]; then
		name="port$PORT" # main exists, on another port
	fi
	log "creating cluster $ver $name on port $PORT"
	pg_createcluster "$ver" "$name" --port "$PORT"
	cluster="$ver $name"
fi
set -- $cluster
ver="$1"
name="$2"

hba="$(pg_conftool -s "$ver" "$name" show hba_file 2>/dev/null || true)"
[ -n "$hba" ] || hba="/etc/postgresql/$ver/$name/pg_hba.conf"
# The rule may carry the mark of the script's earlier path, internal/localstack/.
if ! grep -qE '^# added by (internal/)?localstack/scripts/ensure-postgres\.sh$' "$hba"; then
	log "allowing password-less TCP connections from loopback in $hba"
	tmp="$(mktemp)"
	{
		echo "$MARK"
		echo "host all all 127.0.0.1/32 trust"
		echo "host all all ::1/128 trust"
		cat "$hba"
	} >"$tmp"
	cat "$tmp" >"$hba" # keep the file's owner and mode
	rm -f "$tmp"
fi

status="$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n {print $4}')"
if [ "$status" = "online" ]; then
	pg_ctlcluster "$ver" "$name" reload
else
	log "starting cluster $ver $name"
	pg_ctlcluster "$ver" "$name" start
	# Tell a caller that wants to stop what it started (make demo).
	if [ -n "${ENSURE_POSTGRES_STARTED_FILE:-}" ]; then
		printf '%s %s\n' "$ver" "$name" >"$ENSURE_POSTGRES_STARTED_FILE"
	fi
fi

i=0
until can_connect "$URL"; do
	i=$((i + 1))
	if [ "$i" -ge 30 ]; then
		log "PostgreSQL did not become ready; see /var/log/postgresql/"
		exit 1
	fi
	sleep 1
done
log "PostgreSQL is ready at 127.0.0.1:${PORT}"
