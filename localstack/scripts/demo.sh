#!/bin/sh
# demo.sh is `make demo`: it makes sure PostgreSQL is running, starts the
# local stack (localstack/cmd/devserver), runs examples/quickstart against
# it (RLS on rows, Storage and Edge Functions), checks that it passed, and
# stops the stack again, and PostgreSQL too when this run started it.
# DEMO_ADDR changes the address (default
# 127.0.0.1:54321, where `supabase start` serves its API); PGPORT the local
# PostgreSQL port (default 5432).
set -eu

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
addr="${DEMO_ADDR:-127.0.0.1:54321}"
# The server ensure-postgres.sh sets up, on PGPORT, unless DATABASE_URL names one.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:${PGPORT:-5432}/postgres?sslmode=disable}"

tmp="$(mktemp -d)"
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -s "$tmp/pg-started" ]; then
		# shellcheck disable=SC2046
		pg_ctlcluster $(cat "$tmp/pg-started") stop && echo "demo: stopped the PostgreSQL cluster it had started"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ENSURE_POSTGRES_STARTED_FILE="$tmp/pg-started" sh localstack/scripts/ensure-postgres.sh

# Build first, so the process started (and stopped) is the server itself.
# The server is in the stack's own module (localstack/), the quickstart in the SDK's.
go -C localstack build -o "$tmp/devserver" ./cmd/devserver
go build -o "$tmp/quickstart" ./examples/quickstart

"$tmp/devserver" -addr "$addr" >"$tmp/devserver.log" 2>&1 &
pid=$!

# The server prints its banner once it is listening.
i=0
until grep -q 'API URL' "$tmp/devserver.log" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/devserver.log" >&2
		echo "demo: the local stack did not start (is $addr already in use?)" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -ge 300 ]; then
		cat "$tmp/devserver.log" >&2
		echo "demo: the local stack did not start within 30s" >&2
		exit 1
	fi
	sleep 0.1
done
cat "$tmp/devserver.log"
echo

anon_key="$(awk '/anon key:/ {print $3}' "$tmp/devserver.log")"
# The output is shown as it comes (the signed URL step waits a few
# seconds) and kept, to check that the run ended with its verdict.
{ SUPABASE_URL="http://$addr" SUPABASE_ANON_KEY="$anon_key" "$tmp/quickstart" 2>&1 && echo 0 >"$tmp/quickstart.rc" ||
	echo $? >"$tmp/quickstart.rc"; } | tee "$tmp/quickstart.log"
if [ "$(cat "$tmp/quickstart.rc")" -ne 0 ] || ! grep -q '^All checks passed' "$tmp/quickstart.log"; then
	echo "demo: the quickstart did not pass" >&2
	exit 1
fi
