#!/bin/sh
# Install every Debian package that building, testing (prometheus, whose
# promtool checks what GET /metrics serves), fuzzing (clang and
# libclang-rt-14-dev, which holds libFuzzer and which clang only
# recommends), the demo and the benchmarks need; chromium and a font for
# tests/e2e/report.sh, which renders smmctl report's page in a browser.
# Meant for a fresh Debian 12 as root (no sudo); when all the packages are
# already there it only checks, so reruns are fast.
set -eu

PACKAGES="
build-essential
autoconf
automake
libtool
pkg-config
libuv1-dev
libcurl4-openssl-dev
libyaml-dev
libsqlite3-dev
sqlite3
libjansson-dev
check
libssl-dev
libical-dev
libmicrohttpd-dev
libutf8proc-dev
jq
socat
openssl
curl
wrk
ca-certificates
procps
libsystemd-dev
systemd
mandoc
man-db
bash-completion
clang
libclang-rt-14-dev
chromium
fonts-dejavu-core
prometheus
"

# libpq: the postgresql store backend; postgresql-15: the throwaway
# clusters the cluster tests start (tests/pg/cluster.sh). Its package
# creates the postgres user, which runs the server when the tests run as
# root (initdb and pg_ctl refuse root).
PACKAGES="$PACKAGES libpq-dev postgresql-15"
# libfaketime: one node's clock set wrong while the others' are right
# (tests/pg/clockstep.sh), which one machine cannot do with its own clock.
PACKAGES="$PACKAGES libfaketime"

# Node and npm, for the Standard Webhooks reference library that checks
# smmd's signatures (tests/e2e/stdwebhooks.sh). A Node from elsewhere
# (NodeSource bundles npm) is used as it is: Debian's npm would clash.
if ! command -v npm >/dev/null 2>&1; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=""
	if [ "$status" != "installed" ]; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo "$PACKAGES" | wc -w) Debian packages already installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run this script as root, or: apt-get install$missing" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # one word per package, on purpose
apt-get install -y --no-install-recommends $missing
