#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Checks that every source file of edgesite carries the SPDX license line:
# C, headers and the CRI .proto open with
#     /* SPDX-License-Identifier: Apache-2.0 */
# Python, shell and the CI script have "# SPDX-License-Identifier:
# Apache-2.0" as their first line, or right after the #! line; Go and
# JavaScript use "//". Prints each file that lacks it and exits 1 if any
# does. With -f it adds the line to those files instead (the house's
# opening paragraph stays right after it).
#
# usage: contrib/spdx-check.sh [-f] [TOP]   (TOP: the source tree, default
# the directory above this script). Run in make check by
# tests/unit/spdx_check.sh, so a new file without the line fails there.
set -eu
fix=0
if [ "${1:-}" = -f ]; then
	fix=1
	shift
fi
top=${1:-$(dirname "$0")/..}
cd "$top"

# The files checked: sources, headers, the proto, scripts and test code in
# src/, tests/ and contrib/, plus the scripts at the top and in .ci/.
# Generated files (the protobuf-c output, anything under a build tree) and
# test data are not ours to mark.
list_files() {
	find src tests contrib -type f \( -name '*.c' -o -name '*.h' \
	    -o -name '*.proto' -o -name '*.py' -o -name '*.sh' \
	    -o -name '*.mjs' -o -name '*.go' \) \
	    ! -name '*.pb-c.[ch]' ! -path '*/corpus/*' ! -path '*/data/*' \
	    ! -path '*/__pycache__/*' ! -path '*/_build/*' ! -path 'build*/*' |
	    LC_ALL=C sort
	for f in autogen.sh .ci/run; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# The line a file must carry, by its kind.
spdx_line() {
	case $1 in
	*.c|*.h|*.proto) echo '/* SPDX-License-Identifier: Apache-2.0 */' ;;
	*.go|*.mjs) echo '// SPDX-License-Identifier: Apache-2.0' ;;
	*) echo '# SPDX-License-Identifier: Apache-2.0' ;;
	esac
}

# Where it goes: line 2 after a #! line, else line 1.
spdx_lineno() {
	if head -c 2 "$1" | grep -q '^#!'; then echo 2; else echo 1; fi
}

# Adds the line to one file. Go wants a blank line after it, or it would
# become part of the package comment.
spdx_add() {
	f=$1 want=$2 n=$3 tmp="$1.spdx.$$"
	{
		[ "$n" = 2 ] && head -n 1 "$f"
		echo "$want"
		case $f in *.go) echo ;; esac
		tail -n +"$n" "$f"
	} >"$tmp"
	chmod --reference="$f" "$tmp" 2>/dev/null || true
	mv "$tmp" "$f"
	echo "spdx: added to $f"
}

missing=0
checked=0
for f in $(list_files); do
	checked=$((checked + 1))
	want=$(spdx_line "$f")
	n=$(spdx_lineno "$f")
	have=$(sed -n "${n}p" "$f")
	[ "$have" = "$want" ] && continue
	if [ $fix = 1 ]; then
		spdx_add "$f" "$want" "$n"
	else
		echo "spdx: $f: line $n is not \"$want\""
		missing=$((missing + 1))
	fi
done
if [ $missing -gt 0 ]; then
	echo "spdx: $missing of $checked files lack the license line" \
	    "(contrib/spdx-check.sh -f adds it)"
	exit 1
fi
echo "spdx: $checked files carry the license line"
