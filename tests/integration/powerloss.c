/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An LD_PRELOAD shim that remembers, for each file under
 * $EDGESITE_POWERLOSS_ROOT, the image it had at its last fsync or
 * fdatasync, in $EDGESITE_POWERLOSS_IMAGES (one file per path, '/' written
 * as '%'). After the process is killed, powerloss.py puts every file back
 * to that image and deletes the files never synced: what a power loss
 * leaves of a filesystem that keeps nothing unsynced. rename and unlink
 * carry the images along (taken as durable at once, as a journaling
 * filesystem orders them); writes are not intercepted at all.
 *
 * Built by the tests (powerloss.py) with cc -shared -fPIC -ldl.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int	(*real_fsync)(int);
static int	(*real_fdatasync)(int);
static int	(*real_rename)(const char *, const char *);
static int	(*real_unlink)(const char *);

static void
powerloss_init(void)
{
	if (real_fsync != NULL)
		return;
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "rename");
	real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
}

/* The image path of an absolute path under the root, or -1. */
static int
powerloss_image(const char *path, char *out, size_t outsz)
{
	const char	*root = getenv("EDGESITE_POWERLOSS_ROOT");
	const char	*images = getenv("EDGESITE_POWERLOSS_IMAGES");
	char		 abs[PATH_MAX], *p;
	size_t		 n;
	int		 len;

	if (root == NULL || images == NULL)
		return -1;
	if (path[0] != '/') {
		if (getcwd(abs, sizeof(abs)) == NULL)
			return -1;
		n = strlen(abs);
		snprintf(abs + n, sizeof(abs) - n, "/%s", path);
	} else
		snprintf(abs, sizeof(abs), "%s", path);
	n = strlen(root);
	if (strncmp(abs, root, n) != 0 || abs[n] != '/')
		return -1;
	len = snprintf(out, outsz, "%s/%s", images, abs + n + 1);
	if (len < 0 || (size_t)len >= outsz)
		return -1;
	for (p = out + strlen(images) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '%';
	return 0;
}

/* Copies the whole file behind fd to its image (atomically). */
static void
powerloss_snapshot(int fd)
{
	char		 link[64], path[PATH_MAX], img[PATH_MAX];
	char		 tmp[PATH_MAX + 8];
	char		 buf[65536];
	struct stat	 sb;
	ssize_t		 n;
	int		 in, out;
	off_t		 off = 0;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return;
	path[n] = '\0';
	if (powerloss_image(path, img, sizeof(img)) == -1)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", img);
	if ((in = open(link, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		close(in);
		return;
	}
	while ((n = pread(in, buf, sizeof(buf), off)) > 0) {
		if (write(out, buf, (size_t)n) != n)
			abort();
		off += n;
	}
	close(in);
	close(out);
	real_rename(tmp, img);
}

int
fsync(int fd)
{
	int	rc, saved;

	powerloss_init();
	rc = real_fsync(fd);
	saved = errno;
	if (rc == 0)
		powerloss_snapshot(fd);
	errno = saved;
	return rc;
}

int
fdatasync(int fd)
{
	int	rc, saved;

	powerloss_init();
	rc = real_fdatasync(fd);
	saved = errno;
	if (rc == 0)
		powerloss_snapshot(fd);
	errno = saved;
	return rc;
}

int
rename(const char *from, const char *to)
{
	char	ifrom[PATH_MAX], ito[PATH_MAX];
	int	rc, saved;

	powerloss_init();
	rc = real_rename(from, to);
	saved = errno;
	if (rc == 0 && powerloss_image(to, ito, sizeof(ito)) == 0) {
		if (powerloss_image(from, ifrom, sizeof(ifrom)) == 0 &&
		    access(ifrom, F_OK) == 0)
			real_rename(ifrom, ito);
		else
			real_unlink(ito);
	}
	errno = saved;
	return rc;
}

int
unlink(const char *path)
{
	char	img[PATH_MAX];
	int	rc, saved;

	powerloss_init();
	rc = real_unlink(path);
	saved = errno;
	if (rc == 0 && powerloss_image(path, img, sizeof(img)) == 0)
		real_unlink(img);
	errno = saved;
	return rc;
}
