/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory lock. flock() locks belong to the open file
 * description, so they are dropped when the holder exits (no stale locks)
 * and a second open in the same process conflicts too. The pid written into
 * the file is only for the message a refused edgesite prints.
 */
#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "store/store_lock.h"

static char	store_lock_err[2048];

/* Fills the static message and points *errstr at it. */
static void __attribute__((format(printf, 2, 3)))
store_lock_fail(const char **errstr, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(store_lock_err, sizeof(store_lock_err), fmt, ap);
	va_end(ap);
	*errstr = store_lock_err;
}

/* Reads the holder's pid from the lock file into buf ("unknown" if none). */
static void
store_lock_holder(int fd, char *buf, size_t len)
{
	char	tmp[32];
	ssize_t	n;
	size_t	i;

	n = pread(fd, tmp, sizeof(tmp) - 1, 0);
	if (n < 0)
		n = 0;
	tmp[n] = '\0';
	for (i = 0; tmp[i] >= '0' && tmp[i] <= '9'; i++)
		;
	tmp[i] = '\0';
	snprintf(buf, len, "%s", i > 0 ? tmp : "unknown");
}

/* Replaces the file's contents with our pid. */
static int
store_lock_write_pid(int fd)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* Open, lock without waiting, then record our pid. */
int
store_lock_take(const char *dir, const char **errstr)
{
	char	*path, pid[32];
	int	 fd;

	xasprintf(&path, "%s/%s", dir, STORE_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		store_lock_fail(errstr, "cannot open lock file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			store_lock_holder(fd, pid, sizeof(pid));
			store_lock_fail(errstr, "state directory %s is in use "
			    "by another edgesite (pid %s)", dir, pid);
		} else
			store_lock_fail(errstr, "cannot lock %s: %s", path,
			    strerror(errno));
		goto out_close;
	}
	if (store_lock_write_pid(fd) == -1) {
		store_lock_fail(errstr, "cannot write lock file %s: %s", path,
		    strerror(errno));
		goto out_close;
	}
	free(path);
	return fd;

out_close:
	close(fd);
	fd = -1;
out:
	free(path);
	return fd;
}

/* Closing the descriptor drops the lock. */
void
store_lock_release(int fd)
{
	/* the file stays: unlinking it would race with the next taker */
	if (fd != -1)
		close(fd);
}
