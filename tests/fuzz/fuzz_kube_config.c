/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of the kubeconfig reader (kube_config.c, libyaml
 * through yamldoc.c): the input is the kubeconfig file, written to a
 * private directory that also holds a CA file and a token file it may
 * name by relative path. Loaded with and without master URLs from
 * edgeSite.yaml: a load that succeeds gives at least one http(s) server,
 * one that fails says why. Any crash, sanitizer report or abort() is a
 * bug. Build with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_kube_config tests/fuzz/corpus/kube_config.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/json.h"
#include "kube/kube_config.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_dir[] = "/tmp/fuzz_kube_config.XXXXXX";
static char	fuzz_path[sizeof(fuzz_dir) + 16];

/* Writes len bytes of data to dir/name. */
static void
fuzz_write(const char *name, const void *data, size_t len)
{
	char	 path[sizeof(fuzz_dir) + 16];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		abort();
}

/* Removes the directory at exit (replay; libFuzzer may never exit). */
static void
fuzz_cleanup(void)
{
	static const char *const names[] = { "config", "ca.crt", "token" };
	char	 path[sizeof(fuzz_dir) + 16];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

static void
fuzz_load(char *const *masters)
{
	struct kube_auth	 auth;
	const char		*errstr = NULL;
	size_t			 i;

	if (kube_config_load(fuzz_path, masters, &auth, &errstr) == -1) {
		if (errstr == NULL || auth.servers != NULL)
			abort();
		return;
	}
	if (auth.servers == NULL || auth.servers[0] == NULL)
		abort();
	for (i = 0; auth.servers[i] != NULL; i++) {
		if (strncasecmp(auth.servers[i], "http", 4) != 0)
			abort();
	}
	kube_auth_clear(&auth);
}

/* Once: the directory, a CA and a token file to point at. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char ca[] = "-----BEGIN CERTIFICATE-----\n"
	    "MIIBszCCAVmgAwIBAgIUeGVzdA==\n-----END CERTIFICATE-----\n";

	(void)argc;
	(void)argv;
	json_init();
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/config", fuzz_dir);
	fuzz_write("ca.crt", ca, sizeof(ca) - 1);
	fuzz_write("token", "abc.def\n", 8);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	master[] = "https://192.0.2.1:6443";
	char *const	masters[] = { master, NULL };

	fuzz_write("config", data, size);
	fuzz_load(NULL);
	fuzz_load(masters);
	return 0;
}
