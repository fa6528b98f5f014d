#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every source file carries the SPDX license line (contrib/spdx-check.sh):
# a new file without it fails make check.
exec sh "${top_srcdir:-.}/contrib/spdx-check.sh" "${top_srcdir:-.}"
