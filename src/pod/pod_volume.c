/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod volumes under <state dir>/pods/<uid>/volumes/kubernetes.io~<kind>/
 * <name>, laid out as a kubelet lays them out: emptyDir (a directory, or
 * a tmpfs for medium Memory), hostPath (checked or created per its type,
 * mounted from where it is), and configMap, secret, downwardAPI and
 * projected volumes written by the atomic writer: the files go into a new
 * hidden directory, a "..data" symlink is swapped to it with one rename,
 * and the visible names are symlinks through "..data", so a container
 * sees either the old set of files or the new one, never a mix. Secret
 * files are never readable by others, whatever their mode says (they stay
 * on disk under the state directory: a tmpfs mounted by edgesite would not
 * reach a runtime living in a mount namespace of its own). This file also
 * turns a container's volumeMounts into mounts
 * (subPath, readOnly, propagation) and tears a pod's directory down. The
 * files are local and small: writing them on the loop is like a store
 * write.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"

#define POD_VOLUME_DATA		"..data"
#define POD_VOLUME_DATA_TMP	"..data_tmp"
#define POD_VOLUME_MAX_DEPTH	16
#define POD_VOLUME_DEFAULT_MODE	0644
#define POD_VOLUME_TERMLOG_MAX	4096	/* as a kubelet reads */

/* The files one volume should hold. */
struct pod_files {
	struct pod_file	*v;
	size_t		 n;
};

static int	pod_volume_rmtree_at(int, const char *, dev_t, int);

/* Adds a file (data copied). */
static void
pod_files_add(struct pod_files *f, const char *path, const char *data,
    size_t len, mode_t mode)
{
	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n].path = xstrdup(path);
	f->v[f->n].data = xmalloc(len + 1);
	memcpy(f->v[f->n].data, data, len);
	f->v[f->n].data[len] = '\0';
	f->v[f->n].len = len;
	f->v[f->n].mode = mode;
	f->n++;
}

/* Frees a payload, its contents wiped. */
static void
pod_files_clear(struct pod_files *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].path);
		if (f->v[i].data != NULL)
			explicit_bzero(f->v[i].data, f->v[i].len);
		free(f->v[i].data);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* A relative path with no "..", no empty or absolute part. */
int
pod_volume_path_ok(const char *p)
{
	const char	*s;
	size_t		 n;

	if (p == NULL || *p == '\0' || *p == '/' || strlen(p) > 1024)
		return 0;
	for (s = p; *s != '\0'; s += n + (s[n] == '/')) {
		n = strcspn(s, "/");
		if (n == 0 || (n == 2 && strncmp(s, "..", 2) == 0) ||
		    (n >= 2 && strncmp(s, "..", 2) == 0))
			return 0;
	}
	return 1;
}

/* mkdir -p of path with mode for what it creates. */
int
pod_volume_mkdirs(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rc = 0;

	p = xstrdup(path);
	for (s = p + 1; rc == 0 && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Writes one file at dirfd/path (making its parents), then sets its mode. */
static int
pod_volume_write_file(int dirfd, const struct pod_file *f, gid_t gid)
{
	char	*p, *s;
	ssize_t	 w;
	size_t	 off = 0;
	int	 fd, rc = -1;

	p = xstrdup(f->path);
	for (s = p; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdirat(dirfd, p, 0755) == -1 && errno != EEXIST)
			goto out;
		*s = '/';
	}
	if ((fd = openat(dirfd, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	while (off < f->len) {
		if ((w = write(fd, f->data + off, f->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto out;
		}
		off += (size_t)w;
	}
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) == -1) {
		close(fd);
		goto out;
	}
	rc = fchmod(fd, f->mode);
	close(fd);
out:
	free(p);
	return rc;
}

/* Whether dir/path holds exactly f (content and mode). */
static int
pod_volume_same_file(int dirfd, const struct pod_file *f)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	int		 fd, same = 0;

	if ((fd = openat(dirfd, f->path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size != f->len || (st.st_mode & 07777) != f->mode) {
		close(fd);
		return 0;
	}
	buf = xmalloc(f->len + 1);
	r = read(fd, buf, f->len + 1);
	same = r >= 0 && (size_t)r == f->len && memcmp(buf, f->data,
	    f->len) == 0;
	explicit_bzero(buf, f->len + 1);
	free(buf);
	close(fd);
	return same;
}

/* Counts the regular files under a directory (recursively). */
static size_t
pod_volume_count_files(int dirfd, int depth)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;
	int		 fd;

	if (depth > POD_VOLUME_MAX_DEPTH || (fd = dup(dirfd)) == -1)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0)
			continue;
		if (de->d_type == DT_DIR) {
			if ((fd = openat(dirfd, de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
				n += pod_volume_count_files(fd, depth + 1);
				close(fd);
			}
		} else
			n++;
	}
	closedir(d);
	return n;
}

/* Whether the current data directory already holds exactly the files. */
static int
pod_volume_unchanged(const char *dir, const struct pod_files *f)
{
	char	*data;
	size_t	 i;
	int	 fd, same = 1;

	xasprintf(&data, "%s/%s", dir, POD_VOLUME_DATA);
	fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(data);
	if (fd == -1)
		return 0;
	for (i = 0; i < f->n && same; i++)
		same = pod_volume_same_file(fd, &f->v[i]);
	if (same && pod_volume_count_files(fd, 0) != f->n)
		same = 0;
	close(fd);
	return same;
}

/* The first component of a payload path. */
static char *
pod_volume_top(const char *path)
{
	return xstrndup(path, strcspn(path, "/"));
}

/* Whether a top-level name is still in the payload. */
static int
pod_volume_in_payload(const struct pod_files *f, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < f->n; i++)
		if (strncmp(f->v[i].path, name, n) == 0 &&
		    (f->v[i].path[n] == '\0' || f->v[i].path[n] == '/'))
			return 1;
	return 0;
}

/* Removes visible names and old data directories no longer used. */
static void
pod_volume_prune(const char *dir, const struct pod_files *f,
    const char *keep)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 dfd;

	if ((d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0 || strcmp(de->d_name, POD_VOLUME_DATA) == 0 ||
		    strcmp(de->d_name, keep) == 0)
			continue;
		if (strncmp(de->d_name, "..", 2) != 0) {
			if (pod_volume_in_payload(f, de->d_name))
				continue;
			unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			pod_volume_rmtree_at(dfd, de->d_name, st.st_dev, 0);
		else
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

/* The visible symlinks: name -> ..data/name for each top-level name. */
static int
pod_volume_links(const char *dir, const struct pod_files *f)
{
	char	*top, *link, *target;
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < f->n && rc == 0; i++) {
		top = pod_volume_top(f->v[i].path);
		xasprintf(&link, "%s/%s", dir, top);
		xasprintf(&target, "%s/%s", POD_VOLUME_DATA, top);
		if (symlink(target, link) == -1 && errno != EEXIST)
			rc = -1;
		free(target);
		free(link);
		free(top);
	}
	return rc;
}

/*
 * Writes the files into dir as the kubelet's atomic writer: a new hidden
 * directory, the "..data" link swapped to it by rename, visible links,
 * then the old directory removed. 0 when nothing changed, 1 when it was
 * updated, -1 with a message. gid (or -1) becomes each file's group.
 */
int
pod_volume_write_atomic(const char *dir, const struct pod_file *files,
    size_t n, gid_t gid, char *err, size_t errlen)
{
	struct pod_files	 f = { (struct pod_file *)files, n };
	struct timespec		 now;
	struct tm		 tm;
	char			 stamp[64], *tsdir, *tmp, *data, *base;
	size_t			 i;
	int			 fd;

	for (i = 0; i < n; i++) {
		if (!pod_volume_path_ok(files[i].path)) {
			snprintf(err, errlen, "bad file path \"%.64s\"",
			    files[i].path);
			return -1;
		}
	}
	if (pod_volume_mkdirs(dir, 0755) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (pod_volume_unchanged(dir, &f))
		return pod_volume_links(dir, &f) == -1 ? -1 : 0;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
	xasprintf(&tsdir, "%s/%s%09ldXXXXXX", dir, stamp, (long)now.tv_nsec);
	if (mkdtemp(tsdir) == NULL) {
		snprintf(err, errlen, "mkdtemp in %s: %s", dir,
		    strerror(errno));
		free(tsdir);
		return -1;
	}
	chmod(tsdir, 0755);
	base = strrchr(tsdir, '/') + 1;
	if ((fd = open(tsdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (pod_volume_write_file(fd, &files[i], gid) == -1) {
			close(fd);
			goto fail;
		}
	}
	close(fd);
	xasprintf(&tmp, "%s/%s", dir, POD_VOLUME_DATA_TMP);
	xasprintf(&data, "%s/%s", dir, POD_VOLUME_DATA);
	unlink(tmp);
	if (symlink(base, tmp) == -1 || rename(tmp, data) == -1) {
		free(tmp);
		free(data);
		goto fail;
	}
	free(tmp);
	free(data);
	if (pod_volume_links(dir, &f) == -1)
		goto fail;
	pod_volume_prune(dir, &f, base);
	free(tsdir);
	return 1;

fail:
	snprintf(err, errlen, "writing %s: %s", dir, strerror(errno));
	free(tsdir);
	return -1;
}

/*
 * Removes name under dirfd recursively without following links or
 * crossing into another file system (a mount is detached first when
 * unmount is set).
 */
static int
pod_volume_rmtree_at(int dirfd, const char *name, dev_t dev, int depth)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd, rc = 0;

	if (depth > POD_VOLUME_MAX_DEPTH * 4)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	if (st.st_dev != dev)
		return -1;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0)
			continue;
		if (pod_volume_rmtree_at(fd, de->d_name, dev, depth + 1) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

/* Whether path is a mount point (its device differs from its parent's). */
static int
pod_volume_is_mount(const char *path)
{
	struct stat	 st, pst;
	char		*parent;
	int		 rc;

	xasprintf(&parent, "%s/..", path);
	rc = stat(path, &st) == 0 && stat(parent, &pst) == 0 &&
	    st.st_dev != pst.st_dev;
	free(parent);
	return rc;
}

/*
 * Makes dir a tmpfs (size 0: the default) unless it is one already; a
 * system that refuses the mount gets a plain directory and a warning.
 */
static int
pod_volume_tmpfs(const char *dir, int64_t size, char *err, size_t errlen)
{
	char	opts[64];

	if (pod_volume_mkdirs(dir, 0755) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (pod_volume_is_mount(dir))
		return 0;
	if (size > 0)
		snprintf(opts, sizeof(opts), "mode=0755,size=%lld",
		    (long long)size);
	else
		snprintf(opts, sizeof(opts), "mode=0755");
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == -1) {
		if (errno == EPERM) {
			log_warn("pod volume %s: tmpfs refused, using a plain "
			    "directory", dir);
			return 0;
		}
		snprintf(err, errlen, "mount tmpfs on %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory of a volume of a kind ("kubernetes.io~configmap"). */
char *
pod_volume_dir(const char *poddir, const char *kind, const char *name)
{
	char	*p;

	xasprintf(&p, "%s/volumes/kubernetes.io~%s/%s", poddir, kind, name);
	return p;
}

/* A mode member (octal in YAML would already be a number); def if unset. */
static mode_t
pod_volume_mode(const cJSON *obj, const char *member, mode_t def)
{
	int64_t	m;

	if (json_get_int(obj, member, &m) == -1 || m < 0 || m > 0777)
		return def;
	return (mode_t)m;
}

/* Adds a configmap's or secret's keys (or the listed items) as files. */
static int
pod_volume_object_files(const cJSON *obj, int secret, const cJSON *items,
    const char *prefix, mode_t mode, struct pod_files *f, char *err,
    size_t errlen)
{
	const cJSON	*kv, *it;
	const char	*key, *path;
	char		*val, *full;
	size_t		 len;

	if (cJSON_GetArraySize(items) == 0) {
		cJSON_ArrayForEach(kv, json_get(obj, "data")) {
			if ((val = pod_env_object_data(obj, secret,
			    kv->string, &len)) == NULL)
				continue;
			xasprintf(&full, "%s%s", prefix, kv->string);
			pod_files_add(f, full, val, len, mode);
			free(full);
			free(val);
		}
		cJSON_ArrayForEach(kv, json_get(obj, "binaryData")) {
			if (!cJSON_IsString(kv) || (val =
			    pod_spec_base64(kv->valuestring, &len)) == NULL)
				continue;
			xasprintf(&full, "%s%s", prefix, kv->string);
			pod_files_add(f, full, val, len, mode);
			free(full);
			free(val);
		}
		return 0;
	}
	cJSON_ArrayForEach(it, items) {
		key = json_get_string(it, "key");
		path = json_get_string(it, "path");
		if (key == NULL || path == NULL)
			continue;
		if ((val = pod_env_object_data(obj, secret, key,
		    &len)) == NULL) {
			if (json_get_bool(it, "optional", 0))
				continue;
			snprintf(err, errlen, "%s references non-existent "
			    "config key: %.64s", secret ? "secret" :
			    "configmap", key);
			return -1;
		}
		xasprintf(&full, "%s%s", prefix, path);
		pod_files_add(f, full, val, len,
		    pod_volume_mode(it, "mode", mode));
		free(full);
		free(val);
	}
	return 0;
}

/* Looks up a configmap or secret in the pod's namespace. */
static cJSON *
pod_volume_lookup(const struct pod_ctx *x, int secret, const char *name)
{
	const char	*ns = json_get_string(x->pod, "metadata.namespace");

	if (x->lookup == NULL || name == NULL)
		return NULL;
	return x->lookup(secret ? "secrets" : "configmaps", ns != NULL ? ns :
	    "default", name, x->arg);
}

/* A configMap or secret source: 1 when an optional one is absent. */
static int
pod_volume_source(const struct pod_ctx *x, const cJSON *src, int secret,
    const char *namekey, mode_t mode, struct pod_files *f, char *err,
    size_t errlen)
{
	const char	*name = json_get_string(src, namekey);
	cJSON		*obj;
	int		 rc;

	if ((obj = pod_volume_lookup(x, secret, name)) == NULL) {
		if (json_get_bool(src, "optional", 0))
			return 1;
		snprintf(err, errlen, "%s \"%.64s\" not found", secret ?
		    "secret" : "configmap", name != NULL ? name : "");
		return -1;
	}
	rc = pod_volume_object_files(obj, secret, json_get(src, "items"), "",
	    mode, f, err, errlen);
	cJSON_Delete(obj);
	return rc;
}

/* downwardAPI items as files. */
static int
pod_volume_downward(const struct pod_ctx *x, const cJSON *items,
    mode_t mode, struct pod_files *f, char *err, size_t errlen)
{
	const cJSON	*it;
	const char	*path, *fp;
	char		*val;

	cJSON_ArrayForEach(it, items) {
		if ((path = json_get_string(it, "path")) == NULL)
			continue;
		val = NULL;
		if ((fp = json_get_string(it, "fieldRef.fieldPath")) != NULL) {
			if (pod_env_field(x, fp, &val, err, errlen) == -1)
				return -1;
		} else if (json_get(it, "resourceFieldRef") != NULL) {
			if (pod_env_resource(x, NULL, json_get(it,
			    "resourceFieldRef"), &val, err, errlen) == -1)
				return -1;
		} else
			continue;
		pod_files_add(f, path, val, strlen(val),
		    pod_volume_mode(it, "mode", mode));
		free(val);
	}
	return 0;
}

/* Secrets are never readable by others, whatever the mode says. */
static void
pod_volume_private(struct pod_files *f, size_t from)
{
	for (; from < f->n; from++)
		f->v[from].mode &= 0770;
}

/* projected: the files of every source, in order. */
static int
pod_volume_projected(const struct pod_ctx *x, const cJSON *vol,
    mode_t mode, struct pod_files *f, char *err, size_t errlen)
{
	const cJSON	*src;
	size_t		 first;

	cJSON_ArrayForEach(src, json_get(vol, "sources")) {
		first = f->n;
		if (json_get(src, "configMap") != NULL) {
			if (pod_volume_source(x, json_get(src, "configMap"), 0,
			    "name", mode, f, err, errlen) == -1)
				return -1;
		} else if (json_get(src, "secret") != NULL) {
			if (pod_volume_source(x, json_get(src, "secret"), 1,
			    "name", mode, f, err, errlen) == -1)
				return -1;
			pod_volume_private(f, first);
		} else if (json_get(src, "downwardAPI") != NULL) {
			if (pod_volume_downward(x, json_get(src,
			    "downwardAPI.items"), mode, f, err, errlen) == -1)
				return -1;
		}
		/*
		 * serviceAccountToken and clusterTrustBundle sources need
		 * APIs edgesite does not call; their files are left out.
		 */
	}
	return 0;
}

/* The gid volume files belong to: spec.securityContext.fsGroup, or -1. */
static gid_t
pod_volume_fsgroup(const cJSON *pod)
{
	int64_t	g;

	if (json_get_int(pod, "spec.securityContext.fsGroup", &g) == -1 ||
	    g < 0 || g > 0x7fffffff)
		return (gid_t)-1;
	return (gid_t)g;
}

/* A configMap, secret, downwardAPI or projected volume: the atomic writer. */
static int
pod_volume_written(const struct pod_ctx *x, const char *poddir,
    const cJSON *vol, const char *kind, char *err, size_t errlen)
{
	struct pod_files	 f = { NULL, 0 };
	const cJSON		*src = json_get(vol, kind);
	const char		*name = json_get_string(vol, "name");
	const char		*dirkind;
	char			*dir;
	mode_t			 mode;
	int			 rc = -1;

	mode = pod_volume_mode(src, "defaultMode", POD_VOLUME_DEFAULT_MODE);
	if (strcmp(kind, "configMap") == 0) {
		dirkind = "configmap";
		rc = pod_volume_source(x, src, 0, "name", mode, &f, err,
		    errlen);
	} else if (strcmp(kind, "secret") == 0) {
		dirkind = "secret";
		rc = pod_volume_source(x, src, 1, "secretName", mode, &f, err,
		    errlen);
		pod_volume_private(&f, 0);
	} else if (strcmp(kind, "downwardAPI") == 0) {
		dirkind = "downward-api";
		rc = pod_volume_downward(x, json_get(src, "items"), mode, &f,
		    err, errlen);
	} else {
		dirkind = "projected";
		rc = pod_volume_projected(x, src, mode, &f, err, errlen);
	}
	if (rc == -1)
		goto out;
	dir = pod_volume_dir(poddir, dirkind, name);
	rc = pod_volume_write_atomic(dir, f.v, f.n, pod_volume_fsgroup(x->pod),
	    err, errlen);
	free(dir);
out:
	pod_files_clear(&f);
	return rc;
}

/* emptyDir: a world-writable directory, or a tmpfs for medium Memory. */
static int
pod_volume_emptydir(const struct pod_ctx *x, const char *poddir,
    const cJSON *vol, char *err, size_t errlen)
{
	const char	*medium = json_get_string(vol, "emptyDir.medium");
	const cJSON	*limit = json_get(vol, "emptyDir.sizeLimit");
	char		*dir;
	int64_t		 size = 0;
	int		 rc = 0;

	dir = pod_volume_dir(poddir, "empty-dir", json_get_string(vol,
	    "name"));
	if (limit != NULL && pod_spec_quantity(limit, &size) == 0)
		size /= 1000;
	if (medium != NULL && strcmp(medium, "Memory") == 0)
		rc = pod_volume_tmpfs(dir, size, err, errlen);
	else if (pod_volume_mkdirs(dir, 0755) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		chmod(dir, 0777);
	free(dir);
	return rc;
}

/* hostPath: checks or creates the path according to its type. */
static int
pod_volume_hostpath(const cJSON *vol, char *err, size_t errlen)
{
	const char	*path = json_get_string(vol, "hostPath.path");
	const char	*type = json_get_string(vol, "hostPath.type");
	struct stat	 st;
	char		*parent, *slash;
	int		 fd, ok;

	if (path == NULL || *path != '/') {
		snprintf(err, errlen, "hostPath needs an absolute path");
		return -1;
	}
	if (type == NULL || *type == '\0')
		return 0;
	if (strcmp(type, "DirectoryOrCreate") == 0 &&
	    pod_volume_mkdirs(path, 0755) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (strcmp(type, "FileOrCreate") == 0 && stat(path, &st) == -1) {
		parent = xstrdup(path);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
			*slash = '\0';
			pod_volume_mkdirs(parent, 0755);
		}
		free(parent);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
		    0644)) != -1)
			close(fd);
	}
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "hostPath type check failed: %s does "
		    "not exist", path);
		return -1;
	}
	ok = 1;
	if (strncmp(type, "Directory", 9) == 0)
		ok = S_ISDIR(st.st_mode);
	else if (strncmp(type, "File", 4) == 0)
		ok = S_ISREG(st.st_mode);
	else if (strcmp(type, "Socket") == 0)
		ok = S_ISSOCK(st.st_mode);
	else if (strcmp(type, "CharDevice") == 0)
		ok = S_ISCHR(st.st_mode);
	else if (strcmp(type, "BlockDevice") == 0)
		ok = S_ISBLK(st.st_mode);
	if (!ok) {
		snprintf(err, errlen, "hostPath type check failed: %s is not "
		    "a %s", path, type);
		return -1;
	}
	return 0;
}

/* Sets up one volume. */
static int
pod_volume_one(const struct pod_ctx *x, const char *poddir, const cJSON *vol,
    char *err, size_t errlen)
{
	static const char *const written[] = { "configMap", "secret",
	    "downwardAPI", "projected" };
	size_t	i;

	if (json_get(vol, "emptyDir") != NULL)
		return pod_volume_emptydir(x, poddir, vol, err, errlen);
	if (json_get(vol, "hostPath") != NULL)
		return pod_volume_hostpath(vol, err, errlen);
	for (i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		if (json_get(vol, written[i]) != NULL)
			return pod_volume_written(x, poddir, vol, written[i],
			    err, errlen) == -1 ? -1 : 0;
	snprintf(err, errlen, "volume type not supported by edgesite");
	return -1;
}

/*
 * Sets up (or refreshes) every volume of the pod under poddir. -1 with
 * the message a kubelet shows in a FailedMount event.
 */
int
pod_volume_setup(const struct pod_ctx *x, const char *poddir, char *err,
    size_t errlen)
{
	const cJSON	*vol;
	const char	*name;
	char		 msg[512];

	cJSON_ArrayForEach(vol, json_get(x->pod, "spec.volumes")) {
		name = json_get_string(vol, "name");
		if (!dnsname_label(name))
			continue;
		msg[0] = '\0';
		if (pod_volume_one(x, poddir, vol, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "MountVolume.SetUp failed for "
			    "volume \"%s\" : %s", name, msg);
			return -1;
		}
	}
	return 0;
}

/* The volume named name of the pod, or NULL. */
static const cJSON *
pod_volume_find(const cJSON *pod, const char *name)
{
	const cJSON	*v;
	const char	*n;

	cJSON_ArrayForEach(v, json_get(pod, "spec.volumes")) {
		n = json_get_string(v, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* Where a volume is on the host, and whether it is always read-only. */
static char *
pod_volume_host(const char *poddir, const cJSON *vol, int *readonly)
{
	const char	*name = json_get_string(vol, "name");

	*readonly = 1;
	if (json_get(vol, "hostPath") != NULL) {
		*readonly = 0;
		return xstrdup(json_get_string(vol, "hostPath.path"));
	}
	if (json_get(vol, "emptyDir") != NULL) {
		*readonly = 0;
		return pod_volume_dir(poddir, "empty-dir", name);
	}
	if (json_get(vol, "configMap") != NULL)
		return pod_volume_dir(poddir, "configmap", name);
	if (json_get(vol, "secret") != NULL)
		return pod_volume_dir(poddir, "secret", name);
	if (json_get(vol, "downwardAPI") != NULL)
		return pod_volume_dir(poddir, "downward-api", name);
	return pod_volume_dir(poddir, "projected", name);
}

/*
 * Resolves a subPath inside base: made when missing (as a directory),
 * symlinks followed, and refused if the result leaves base.
 */
static char *
pod_volume_subpath(const char *base, const char *sub, char *err,
    size_t errlen)
{
	char	*full, rbase[PATH_MAX], rfull[PATH_MAX];
	size_t	 n;

	if (!pod_volume_path_ok(sub)) {
		snprintf(err, errlen, "subPath \"%.64s\" must be a relative "
		    "path without \"..\"", sub);
		return NULL;
	}
	xasprintf(&full, "%s/%s", base, sub);
	if (access(full, F_OK) == -1 && pod_volume_mkdirs(full, 0755) == -1) {
		snprintf(err, errlen, "subPath %s: %s", sub, strerror(errno));
		free(full);
		return NULL;
	}
	if (realpath(base, rbase) == NULL || realpath(full, rfull) == NULL) {
		snprintf(err, errlen, "subPath %s: %s", sub, strerror(errno));
		free(full);
		return NULL;
	}
	free(full);
	n = strlen(rbase);
	if (strncmp(rfull, rbase, n) != 0 || (rfull[n] != '/' &&
	    rfull[n] != '\0')) {
		snprintf(err, errlen, "subPath \"%.64s\" leaves its volume",
		    sub);
		return NULL;
	}
	return xstrdup(rfull);
}

/* Adds one mount. */
static void
pod_mounts_add(struct pod_mounts *m, char *host, const char *ctr,
    int readonly, enum pod_propagation prop)
{
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n].host = host;
	m->v[m->n].ctr = xstrdup(ctr);
	m->v[m->n].readonly = readonly;
	m->v[m->n].propagation = prop;
	m->n++;
}

/* Frees a list of mounts. */
void
pod_mounts_clear(struct pod_mounts *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].host);
		free(m->v[i].ctr);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* mountPropagation as the runtime names it. */
static enum pod_propagation
pod_volume_propagation(const cJSON *vm)
{
	const char	*p = json_get_string(vm, "mountPropagation");

	if (p != NULL && strcmp(p, "HostToContainer") == 0)
		return POD_PROPAGATION_HOST_TO_CONTAINER;
	if (p != NULL && strcmp(p, "Bidirectional") == 0)
		return POD_PROPAGATION_BIDIRECTIONAL;
	return POD_PROPAGATION_PRIVATE;
}

/*
 * The mounts of container c: one per volumeMount, subPath (and
 * subPathExpr, expanded with env) resolved. -1 with a message.
 */
int
pod_volume_mounts(const struct pod_ctx *x, const char *poddir,
    const cJSON *c, const struct pod_envs *env, struct pod_mounts *m,
    char *err, size_t errlen)
{
	const cJSON	*vm, *vol;
	const char	*name, *sub, *path;
	char		*host, *resolved, *expanded = NULL;
	int		 ro;

	memset(m, 0, sizeof(*m));
	cJSON_ArrayForEach(vm, json_get(c, "volumeMounts")) {
		name = json_get_string(vm, "name");
		path = json_get_string(vm, "mountPath");
		if (name == NULL || path == NULL ||
		    (vol = pod_volume_find(x->pod, name)) == NULL) {
			snprintf(err, errlen, "volume mount of no volume");
			goto fail;
		}
		host = pod_volume_host(poddir, vol, &ro);
		sub = json_get_string(vm, "subPath");
		if ((sub == NULL || *sub == '\0') && env != NULL &&
		    json_get_string(vm, "subPathExpr") != NULL)
			sub = expanded = pod_env_expand(json_get_string(vm,
			    "subPathExpr"), env);
		if (sub != NULL && *sub != '\0') {
			resolved = pod_volume_subpath(host, sub, err, errlen);
			free(host);
			free(expanded);
			if ((host = resolved) == NULL)
				goto fail;
		} else
			free(expanded);
		expanded = NULL;
		pod_mounts_add(m, host, path, ro || json_get_bool(vm,
		    "readOnly", 0), pod_volume_propagation(vm));
	}
	return 0;

fail:
	pod_mounts_clear(m);
	return -1;
}

/* The host file of a container instance's termination message. */
static char *
pod_volume_termlog_path(const char *poddir, const char *cname,
    uint32_t attempt)
{
	char	*p;

	xasprintf(&p, "%s/containers/%s/%u", poddir, cname, attempt);
	return p;
}

/*
 * The termination message file of a new instance: an empty file anyone
 * may write, mounted at terminationMessagePath (/dev/termination-log)
 * unless a volume is mounted there. -1 with a message.
 */
int
pod_volume_termlog(const char *poddir, const cJSON *c, uint32_t attempt,
    struct pod_mounts *m, char *err, size_t errlen)
{
	const char	*path = json_get_string(c, "terminationMessagePath");
	char		*file, *dir;
	size_t		 i;
	int		 fd;

	if (path == NULL || *path != '/')
		path = "/dev/termination-log";
	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].ctr, path) == 0)
			return 0;
	xasprintf(&dir, "%s/containers/%s", poddir, json_get_string(c,
	    "name"));
	file = pod_volume_termlog_path(poddir, json_get_string(c, "name"),
	    attempt);
	if (pod_volume_mkdirs(dir, 0755) == -1 || (fd = open(file,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0666)) == -1) {
		snprintf(err, errlen, "termination message file %s: %s", file,
		    strerror(errno));
		free(dir);
		free(file);
		return -1;
	}
	fchmod(fd, 0666);
	close(fd);
	free(dir);
	pod_mounts_add(m, file, path, 0, POD_PROPAGATION_PRIVATE);
	return 0;
}

/* What an exited instance wrote as its termination message, or NULL. */
char *
pod_volume_termlog_read(const char *poddir, const char *cname,
    uint32_t attempt)
{
	char	*file, *buf;
	ssize_t	 n;
	int	 fd;

	file = pod_volume_termlog_path(poddir, cname, attempt);
	fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(file);
	if (fd == -1)
		return NULL;
	buf = xmalloc(POD_VOLUME_TERMLOG_MAX + 1);
	n = read(fd, buf, POD_VOLUME_TERMLOG_MAX);
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Detaches every mount below dir (deepest first), then dir itself. */
static void
pod_volume_unmount_tree(const char *dir, int depth)
{
	struct dirent	*de;
	DIR		*d;
	char		*sub;

	if (depth > 4 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&sub, "%s/%s", dir, de->d_name);
		pod_volume_unmount_tree(sub, depth + 1);
		free(sub);
	}
	closedir(d);
	if (pod_volume_is_mount(dir) && umount2(dir, MNT_DETACH) == -1)
		log_warn("pod volume %s: unmount", dir);
}

/* One open directory of a removal in steps. */
struct pod_volume_rm_dir {
	DIR	*d;
	char	*name;		/* in its parent; NULL: the top */
};

/* A folder removed a few entries at a time. */
struct pod_volume_rm {
	char				*path;
	dev_t				 dev;
	struct pod_volume_rm_dir	*stack;
	size_t				 depth;
	int				 started;
	int				 failed;	/* something stayed */
};

/*
 * A removal of path in steps: every tmpfs below its volumes is unmounted
 * now, the tree goes in pod_volume_rm_step. The caller frees it.
 */
struct pod_volume_rm *
pod_volume_rm_new(const char *path)
{
	struct pod_volume_rm	*rm;
	char			*vols;

	rm = xcalloc(1, sizeof(*rm));
	rm->path = xstrdup(path);
	xasprintf(&vols, "%s/volumes", path);
	pod_volume_unmount_tree(vols, 0);
	free(vols);
	return rm;
}

/* Frees a removal, finished or not. Accepts NULL. */
void
pod_volume_rm_free(struct pod_volume_rm *rm)
{
	if (rm == NULL)
		return;
	while (rm->depth > 0) {
		rm->depth--;
		closedir(rm->stack[rm->depth].d);
		free(rm->stack[rm->depth].name);
	}
	free(rm->stack);
	free(rm->path);
	free(rm);
}

/* Descends into directory name under the top one (NULL: the path). */
static void
pod_volume_rm_push(struct pod_volume_rm *rm, const char *name)
{
	struct pod_volume_rm_dir	*top;
	DIR				*d;
	int				 fd;

	if (name == NULL)
		fd = open(rm->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	else if (rm->depth > POD_VOLUME_MAX_DEPTH * 4)
		fd = -1;
	else
		fd = openat(dirfd(rm->stack[rm->depth - 1].d), name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		rm->failed = 1;
		return;
	}
	rm->stack = xreallocarray(rm->stack, rm->depth + 1,
	    sizeof(*rm->stack));
	top = &rm->stack[rm->depth++];
	top->d = d;
	top->name = name != NULL ? xstrdup(name) : NULL;
}

/* The top directory is empty (or what stayed is counted): remove it. */
static void
pod_volume_rm_pop(struct pod_volume_rm *rm)
{
	struct pod_volume_rm_dir	*top = &rm->stack[--rm->depth];
	int				 rc;

	closedir(top->d);
	if (top->name == NULL)
		rc = rmdir(rm->path);
	else
		rc = unlinkat(dirfd(rm->stack[rm->depth - 1].d), top->name,
		    AT_REMOVEDIR);
	if (rc == -1)
		rm->failed = 1;
	free(top->name);
}

/* Removes (or descends into) one entry of the top directory. */
static void
pod_volume_rm_entry(struct pod_volume_rm *rm, const char *name)
{
	struct stat	st;
	int		fd = dirfd(rm->stack[rm->depth - 1].d);

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			rm->failed = 1;
	} else if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(fd, name, 0) == -1)
			rm->failed = 1;
	} else if (st.st_dev != rm->dev)
		rm->failed = 1;		/* never into another file system */
	else
		pod_volume_rm_push(rm, name);
}

/* The first step: a missing path is done, a file goes at once. */
static void
pod_volume_rm_start(struct pod_volume_rm *rm)
{
	struct stat	st;

	rm->started = 1;
	if (lstat(rm->path, &st) == -1) {
		if (errno != ENOENT)
			rm->failed = 1;
		return;
	}
	rm->dev = st.st_dev;
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(rm->path) == -1)
			rm->failed = 1;
		return;
	}
	pod_volume_rm_push(rm, NULL);
}

/*
 * Removes at most max entries without following links or crossing into
 * another file system: 1 while more is left, then 0, or -1 when
 * something stayed.
 */
int
pod_volume_rm_step(struct pod_volume_rm *rm, size_t max)
{
	struct dirent	*de;
	size_t		 n = 0;

	if (!rm->started) {
		pod_volume_rm_start(rm);
		n++;
	}
	while (rm->depth > 0 && n < max) {
		if ((de = readdir(rm->stack[rm->depth - 1].d)) == NULL) {
			pod_volume_rm_pop(rm);
			n++;
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name,
		    "..") == 0)
			continue;
		pod_volume_rm_entry(rm, de->d_name);
		n++;
	}
	if (rm->depth > 0)
		return 1;
	return rm->failed ? -1 : 0;
}

/*
 * Removes a pod's directory at once: every tmpfs below its volumes is
 * unmounted, then the tree is removed without following links or
 * crossing into any other file system. 0, or -1 when something stayed.
 */
int
pod_volume_teardown(const char *poddir)
{
	struct pod_volume_rm	*rm;
	int			 rc;

	rm = pod_volume_rm_new(poddir);
	rc = pod_volume_rm_step(rm, SIZE_MAX);
	pod_volume_rm_free(rm);
	return rc;
}
