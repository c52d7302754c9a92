#!/bin/sh
# A throwaway PostgreSQL cluster for the tests that need one (the
# postgresql store, several smmd nodes), kept whole in one directory:
# data in DIR/data, the server's log in DIR/log, its socket in DIR (no
# TCP), fsync off. As root the server runs as the postgres user, since
# initdb and pg_ctl refuse to run as root. Clients connect as the
# superuser smmd, without a password, to the database smmd.
#
#   cluster.sh start DIR                  initdb if needed, start unless
#                                         running, wait, createdb
#   cluster.sh stop DIR                   fast shutdown (nothing to do if stopped)
#   cluster.sh restart DIR [fast|immediate]
#                                         stop (default fast; immediate is a
#                                         crash: recovery on start), start
#   cluster.sh kill-backends DIR [PATTERN]
#                                         pg_terminate_backend every backend
#                                         whose application_name is LIKE
#                                         PATTERN (default 'smmd%'), wait
#                                         until each is gone, print how many
#   cluster.sh env DIR                    print export lines for the libpq
#                                         variables: eval "$(cluster.sh env DIR)"
#   cluster.sh psql DIR [ARGS...]         that server's psql, as smmd on the
#                                         database smmd
#
# Environment: SMM_PG_BINDIR, the server's binaries (default: PostgreSQL
# 15's, else the newest installed, else pg_config --bindir); SMM_PG_PORT
# (default 5432: the socket is private to DIR, so clusters never clash);
# SMM_PG_SKIP, when set, the reason to skip instead (.ci/run sets it for
# make distcheck's run, the third of the suite).
# Exit status: 0 done, 1 failed (with the end of DIR/log), 2 usage, 77 no
# PostgreSQL server installed (automake's "skip").
set -eu

PORT=${SMM_PG_PORT:-5432}

say() {
	printf 'cluster.sh: %s\n' "$*" >&2
}

usage() {
	say "usage: cluster.sh start|stop|restart|kill-backends|env|psql DIR [ARG...]"
	exit 2
}

# Say what failed, show the end of the server's log, exit 1.
die() {
	say "$*"
	if [ -s "$DIR/log" ]; then
		say "the end of $DIR/log:"
		tail -n 20 "$DIR/log" >&2
	fi
	exit 1
}

# The directory holding initdb, pg_ctl and psql, or exit 77.
find_bindir() {
	if [ -n "${SMM_PG_SKIP:-}" ]; then
		say "SKIP: $SMM_PG_SKIP"
		exit 77
	fi
	for d in "${SMM_PG_BINDIR:-}" /usr/lib/postgresql/15/bin \
		"$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)" \
		"$(pg_config --bindir 2>/dev/null)"; do
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	say "SKIP: no PostgreSQL server (initdb, pg_ctl) installed: apt-get install postgresql-15"
	exit 77
}

# Run a server binary as the postgres user when root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

psql_() {
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U smmd "$@"
}

# fsync and full_page_writes off: nothing survives the machine crashing,
# which no test does. synchronous_commit stays on: off, a commit that
# psql or smmd saw succeed is lost by "restart DIR immediate" (the WAL
# writer had not written it yet), which a real server never does, and
# the crash tests would test a database that forgets.
server_start() {
	as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 -o \
		"-c listen_addresses='' -k '$DIR' -p $PORT -c fsync=off -c full_page_writes=off" \
		start >/dev/null || die "pg_ctl start failed in $DIR"
}

# Stop with MODE if running; a stopped or never started cluster is fine.
server_stop() {
	as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1 || return 0
	as_pg "$BIN/pg_ctl" -D "$DIR/data" -m "$1" -w -t 60 stop >/dev/null ||
		die "pg_ctl stop -m $1 failed in $DIR"
}

cmd_start() {
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || {
			say "SKIP: running as root and there is no postgres user to run the server"
			exit 77
		}
		chown postgres "$DIR"
		runuser -u postgres -- test -w "$DIR" ||
			die "the postgres user cannot reach $DIR (a parent directory is private?)"
	fi
	# A socket's path must fit in sun_path (107 bytes).
	[ "${#DIR}" -le 90 ] || die "directory path too long for a socket: $DIR"
	if [ ! -f "$DIR/data/PG_VERSION" ]; then
		as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U smmd --no-sync \
			-E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
			{ cat "$DIR/initdb.log" >&2; die "initdb failed in $DIR/data"; }
	fi
	if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
		server_start
	fi
	if [ -z "$(psql_ -d postgres -Atc "select 1 from pg_database where datname = 'smmd'")" ]; then
		psql_ -d postgres -c 'create database smmd' ||
			die "could not create the database smmd"
	fi
}

cmd_kill_backends() {
	# Through stdin: psql expands :'pattern' there, not in -c.
	echo "select count(*) filter (where pg_terminate_backend(pid, 5000))
		from pg_stat_activity
		where backend_type = 'client backend' and pid <> pg_backend_pid()
			and application_name like :'pattern'" |
		psql_ -d postgres -At -v pattern="$1" ||
		die "pg_terminate_backend failed"
}

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
[ -d "$DIR" ] || { say "no such directory: $DIR"; exit 1; }
DIR=$(cd "$DIR" && pwd)

case $CMD in
env)
	printf "export PGHOST='%s' PGPORT='%s' PGUSER=smmd PGDATABASE=smmd\n" \
		"$DIR" "$PORT"
	exit 0
	;;
esac

BIN=$(find_bindir) || exit $?
case $CMD in
start) cmd_start ;;
stop) server_stop fast ;;
restart)
	mode=${3:-fast}
	case $mode in fast | immediate) ;; *) usage ;; esac
	server_stop "$mode"
	server_start
	;;
kill-backends) cmd_kill_backends "${3:-smmd%}" ;;
psql)
	shift 2
	exec "$BIN/psql" -X -h "$DIR" -p "$PORT" -U smmd -d smmd "$@"
	;;
*) usage ;;
esac
