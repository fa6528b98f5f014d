/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Corpus replay for make check: linked with one libFuzzer harness instead
 * of libFuzzer, so the harnesses build with gcc. Feeds every regular file
 * of each directory (or each file) named on the command line to
 * LLVMFuzzerTestOneInput, once, after LLVMFuzzerInitialize when the
 * harness has one. A crash, sanitizer report or abort() fails the test;
 * so does an empty or unreadable corpus, which would prove nothing.
 * Usage: replay-<harness> DIR|FILE...
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Largest corpus file: libFuzzer's default -max_len is far below. */
#define REPLAY_MAX_FILE	(4u * 1024 * 1024)

/* Feeds one file, in a buffer of exactly its size (ASan sees overreads). */
static int
replay_file(const char *path)
{
	FILE		*fp;
	struct stat	 st;
	uint8_t		*buf;
	size_t		 n;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) ==
	    -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if ((size_t)st.st_size > REPLAY_MAX_FILE) {
		fprintf(stderr, "replay: %s: larger than %u bytes\n", path,
		    REPLAY_MAX_FILE);
		fclose(fp);
		return -1;
	}
	n = (size_t)st.st_size;
	/* malloc(0) may give NULL: keep one byte, pass a length of 0 */
	if ((buf = malloc(n != 0 ? n : 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	if (fread(buf, 1, n, fp) != n) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

/* Feeds each regular file of dir; the count fed, or -1. */
static int
replay_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*path;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1) {
			n = -1;
			break;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == -1)
				n = -1;
			else if (n != -1)
				n++;
		}
		free(path);
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	int		 i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n == -1)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input in the corpus\n");
		return 1;
	}
	printf("replay: %d inputs\n", total);
	return 0;
}
