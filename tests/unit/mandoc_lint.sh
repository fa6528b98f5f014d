#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Lints the man pages with mandoc; style notes are allowed, warnings are not.
set -e
top=${top_srcdir:-.}
status=0
for page in "$top/man/edgesite.8" "$top/man/edgeSite.yaml.5"; do
	if ! ${MANDOC:-mandoc} -Tlint -Wwarning "$page"; then
		echo "mandoc: $page has warnings or errors"
		status=1
	fi
done
exit $status
