/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of edgeSite.yaml as the operator (or a tool writing
 * it) hands it over: the input is the file, loaded through the option
 * table (conf.c, libyaml through yamldoc.c). A file that loads must give
 * an effective config that dumps as JSON and whose every option formats;
 * diffed against the defaults, each change formats too. A file that does
 * not load must say why, as file:line:col. Any crash, sanitizer report or
 * abort() is a bug. Build with clang: ./configure --enable-fuzzing
 * CC=clang; run: tests/fuzz/fuzz_conf tests/fuzz/corpus/conf.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/json.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_diff_cb(const struct conf_option *o, const char *was, const char *now,
    void *arg)
{
	(void)arg;
	if (o == NULL || was == NULL || now == NULL)
		abort();
}

/* What the daemon does with a loaded config: dump, format, diff. */
static void
fuzz_loaded(const struct conf *c)
{
	const char	*errstr;
	struct conf	*def;
	cJSON		*j;
	char		*s;
	size_t		 i;

	s = conf_dump_json(c);
	if ((j = json_parse(s, strlen(s), JSON_MAX_DOCUMENT, &errstr)) ==
	    NULL)
		abort();
	cJSON_Delete(j);
	free(s);
	for (i = 0; i < conf_table_len; i++)
		free(conf_format(c, &conf_table[i]));
	def = conf_defaults();
	conf_diff(def, c, fuzz_diff_cb, NULL);
	conf_free(def);
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
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c;
	size_t			 i;

	c = conf_load_buf("fuzz.yaml", (const char *)data, size, &errs,
	    &warns);
	if (c == NULL && errs.n == 0)
		abort();
	if (c != NULL && errs.n != 0)
		abort();
	for (i = 0; i < errs.n; i++) {
		if (strncmp(errs.v[i].text, "fuzz.yaml:", 10) != 0)
			abort();
	}
	if (c != NULL)
		fuzz_loaded(c);
	conf_free(c);
	conf_msgs_clear(&errs);
	conf_msgs_clear(&warns);
	return 0;
}
