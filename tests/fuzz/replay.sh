#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make check: replays each fuzz harness's corpus (tests/fuzz/corpus/<name>)
# through tests/fuzz/replay_<name>, built with whatever compiler the build
# uses (under ASan too when configured with --enable-asan). Fails when a
# harness crashes, aborts or finds its corpus empty.
: "${top_srcdir:=.}"
status=0
for h in $FUZZ_HARNESSES; do
	printf '%s: ' "$h"
	if ! ./tests/fuzz/replay_"$h" "$top_srcdir/tests/fuzz/corpus/$h"; then
		echo "FAIL: fuzz corpus $h" >&2
		status=1
	fi
done
[ -n "$FUZZ_HARNESSES" ] || { echo "no harness named" >&2; exit 1; }
exit $status
