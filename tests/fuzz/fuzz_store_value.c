/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of what the store reads back from disk: the input is
 * a value as LevelDB returns it, which a damaged disk may have changed.
 * It is unframed (store_value.c) and, when it verifies, its payload goes
 * where store values go: the outbox record parser and the local API's
 * JSON text reader. A value that verifies must give a payload inside it,
 * NUL-terminated, with the length the header says; framing a payload
 * again must verify to the same bytes. Any crash, sanitizer report or
 * abort() is a bug. Build with clang: ./configure --enable-fuzzing
 * CC=clang; run: tests/fuzz/fuzz_store_value tests/fuzz/corpus/store_value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/json.h"
#include "store/store.h"
#include "store/store_outbox.h"
#include "store/store_value.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Frames p again: it must verify to the same payload. */
static void
fuzz_reframe(const char *p, size_t n)
{
	const char	*q, *why;
	char		*f;
	size_t		 flen, qlen;

	if ((f = store_value_frame(p, n, &flen)) == NULL)
		abort();
	if (store_value_check(f, flen, &q, &qlen, &why) == -1 ||
	    qlen != n || memcmp(p, q, n) != 0 ||
	    store_value_revision(f) != 0)
		abort();
	free(f);
}

/* What readers make of a payload. */
static void
fuzz_readers(const char *p, size_t n)
{
	struct store_outbox_rec	 rec;
	struct api_span		 sp;
	const char		*errstr;

	if (store_outbox_parse(p, n, &rec, &errstr) == 0)
		store_outbox_rec_clear(&rec);
	if (api_text_find(p, n, "metadata.name", &sp) == 0) {
		if (sp.p < p || sp.p + sp.len > p + n)
			abort();
		free(api_text_string(&sp));
	}
}

/* Once before the first input: cJSON on xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data, *p, *why;
	size_t		 n;

	if (store_value_check(buf, size, &p, &n, &why) == -1) {
		if (why == NULL)
			abort();
		if (size <= STORE_MAX_VALUE)
			fuzz_reframe(buf, size);
		return 0;
	}
	if (p < buf || n > size || p + n >= buf + size || p[n] != '\0' ||
	    (size_t)(p - buf) + n + 1 != size)
		abort();
	(void)store_value_revision(buf);
	fuzz_readers(p, n);
	fuzz_reframe(p, n);
	return 0;
}
