#!/bin/sh
# Run one command against a throwaway PostgreSQL cluster of its own:
#
#   with-pg.sh CMD [ARGS...]
#
# starts a cluster (tests/pg/cluster.sh) in a new temporary directory,
# runs CMD with PGHOST, PGPORT, PGUSER and PGDATABASE set for it and
# SMM_PG_DIR naming the directory and SMM_PG_CLUSTER the cluster.sh that
# runs it (for "sh $SMM_PG_CLUSTER restart $SMM_PG_DIR" and the like), then stops the cluster and removes the directory, whatever
# CMD did. Each run has its own directory and socket, so several can run
# at once (make check -j2).
#
# Environment: TMPDIR (default /tmp), SMM_PG_KEEP=1 keeps the directory;
# what cluster.sh reads (SMM_PG_BINDIR, SMM_PG_PORT).
# Exit status: CMD's; 77 (skip) when no PostgreSQL server is installed;
# 1 when the cluster does not start.
set -u

[ $# -ge 1 ] || { echo "usage: with-pg.sh CMD [ARGS...]" >&2; exit 2; }
CLUSTER="$(cd "$(dirname "$0")" && pwd)/cluster.sh"
SMM_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/smm-pg.XXXXXX") || exit 1
STARTED=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ "$STARTED" = 1 ] && ! sh "$CLUSTER" stop "$SMM_PG_DIR"; then
		echo "with-pg.sh: the cluster in $SMM_PG_DIR did not stop" >&2
	fi
	if [ "${SMM_PG_KEEP:-0}" = 1 ]; then
		echo "with-pg.sh: kept $SMM_PG_DIR" >&2
	else
		rm -rf "$SMM_PG_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Started, for cleanup, unless there is no server at all (77).
STARTED=1
sh "$CLUSTER" start "$SMM_PG_DIR" || {
	rc=$?
	[ "$rc" -ne 77 ] || STARTED=0
	exit "$rc"
}
eval "$(sh "$CLUSTER" env "$SMM_PG_DIR")"
SMM_PG_CLUSTER=$CLUSTER
export SMM_PG_DIR SMM_PG_CLUSTER

"$@"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
	echo "with-pg.sh: '$1' exited with $status; the end of $SMM_PG_DIR/log:" >&2
	tail -n 20 "$SMM_PG_DIR/log" >&2
fi
exit "$status"
