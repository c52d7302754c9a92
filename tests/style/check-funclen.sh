#!/bin/sh
# Fail on any function in daemon/, lib/, client/ or tests/sink/ longer
# than 80 lines (from the first line of its signature to its closing
# brace) unless tests/style/funclen-allow.txt lists it with a reason, in
# the manner of curl's scripts/top-complexity. A listed function that is
# gone or short now is only noted, so a merge that splits one does not
# break the build; drop its line then.
#
#   sh tests/style/check-funclen.sh        (make check runs it)
#
# Environment: SMM_TOP_SRCDIR (default: two levels up from this script),
# SMM_FUNCLEN_MAX (default: 80).
# Exit status: 0 when every long function is listed, 1 otherwise.
set -eu

top=${SMM_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
max=${SMM_FUNCLEN_MAX:-80}
cd "$top"

files=$(find daemon lib client tests/sink -name '*.c' | LC_ALL=C sort)
lengths=$(mktemp)
trap 'rm -f "$lengths"' EXIT
# shellcheck disable=SC2086 # one word per file: the paths have no spaces
awk -f tests/style/funclen.awk $files >"$lengths"
awk -v max="$max" -v list=tests/style/funclen-allow.txt '
	# The list: "FILE FUNCTION REASON...", "#" comments, blank lines.
	FILENAME == list {
		if ($0 ~ /^[ \t]*(#|$)/)
			next
		if (NF < 3) {
			printf "%s:%d: give a file, a function and a reason\n",
			       list, FNR
			bad = 1
			next
		}
		allowed[$1 " " $2] = FNR
		next
	}
	{
		seen[$1 " " $3] = $4
		if ($4 <= max || ($1 " " $3) in allowed)
			next
		printf "%s:%d: %s() is %d lines, over %d: split it, or list " \
		       "it in %s with a reason\n", $1, $2, $3, $4, max, list
		bad = 1
	}
	END {
		for (k in allowed) {
			split(k, f, " ")
			if (!(k in seen))
				printf "note: %s:%d: %s() is not in %s any more; " \
				       "drop its line\n", list, allowed[k], f[2], f[1]
			else if (seen[k] <= max)
				printf "note: %s:%d: %s() in %s is %d lines now; " \
				       "drop its line\n", list, allowed[k], f[2], f[1],
				       seen[k]
		}
		exit bad
	}
' tests/style/funclen-allow.txt "$lengths"
