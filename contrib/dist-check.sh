#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Checks that the release tarball holds every file of the repository that
# building, tests/run.sh, contrib/quickstart.sh and the benchmarks need:
# each file git tracks must be in the unpacked distribution directory,
# except the few listed below on purpose. Run by make distcheck (its
# distcheck-hook, on the unpacked tarball); outside a git checkout (a
# distcheck of the tarball itself) there is nothing to compare with, and
# it says so.
#
# usage: contrib/dist-check.sh SRCDIR DISTDIR
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 SRCDIR DISTDIR" >&2
	exit 2
fi
src=$1 dist=$2

# Deliberately left out of the tarball, one pattern per line (shell case
# patterns against the path in the repository):
#   .gitignore files	 only mean something to git
#   .ci/*		 the CI hook of the repository; it runs tests/run.sh,
#			 which is shipped
excluded() {
	case $1 in
	.gitignore|*/.gitignore) return 0 ;;
	.ci/*) return 0 ;;
	esac
	return 1
}

if ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "dist-check: $src is not a git checkout, nothing to compare"
	exit 0
fi
if [ ! -d "$dist" ]; then
	echo "dist-check: $dist: no such directory" >&2
	exit 2
fi

missing=0
total=0
for f in $(git -C "$src" ls-files); do
	excluded "$f" && continue
	total=$((total + 1))
	if [ ! -e "$dist/$f" ]; then
		echo "dist-check: $f is tracked but not in the tarball" \
		    "(add it to EXTRA_DIST, or to the exclusions of $0)"
		missing=$((missing + 1))
	fi
done
if [ $missing -gt 0 ]; then
	echo "dist-check: $missing of $total tracked files missing from $dist"
	exit 1
fi
echo "dist-check: all $total tracked files are in $dist"
