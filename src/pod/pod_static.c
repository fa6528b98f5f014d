/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Static pods: every regular file of static-pod-dir (hidden ones skipped)
 * holds one pod manifest, YAML or JSON, that runs with or without a
 * cluster. The folder is rescanned every second; a file is read again
 * only when its inode, size or modification time changed. Each manifest
 * becomes the pod a kubelet would make of it -- named <name>-<node>, in
 * namespace default unless it says otherwise, bound to this node, with
 * a uid hashed from its content, node and file (so an edited file is a new
 * pod), the kubernetes.io/config.* annotations and the API's defaults --
 * and is stored under s/<ns>/<name>, where the room picks it up; a file
 * removed or no longer valid deletes its pod. In cluster mode each static
 * pod gets a mirror pod in the apiserver (annotation
 * kubernetes.io/config.mirror, owned by the Node whose uid the stored Node
 * object tells), created and deleted through outbox records
 * (store_outbox.h) and replaced when it no longer matches; status goes to
 * it. Mirrors are checked every POD_STATIC_MIRROR_MS and whenever the
 * stored Node changes (its uid is known once it is registered).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/compat.h"
#include "core/conf.h"
#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_int.h"
#include "store/store.h"
#include "store/store_outbox.h"

#define POD_STATIC_SCAN_MS	1000
#define POD_STATIC_MIRROR_MS	10000
#define POD_STATIC_MAX_FILES	1024
#define POD_STATIC_NAME_MAX	253

/* One file of the folder and what it last gave. */
struct pod_static_file {
	TAILQ_ENTRY(pod_static_file)	 entry;
	char				*name;
	dev_t				 dev;
	ino_t				 ino;
	off_t				 size;
	struct timespec			 mtime;
	char				*key;		/* NULL: invalid */
	char				*json;
	int				 seen;
};

/* A mirror pod asked for, not to ask again too soon. */
struct pod_static_req {
	TAILQ_ENTRY(pod_static_req)	 entry;
	char				*key;		/* ns/name */
	uint64_t			 at;
};

struct pod_static {
	struct pod_room				*room;
	char					*dir;
	struct event				*ev_scan;
	struct event				*ev_mirror;
	struct store_sub			*node_sub;
	int					 missing;	/* told */
	TAILQ_HEAD(, pod_static_file)		 files;
	TAILQ_HEAD(, pod_static_req)		 reqs;
};

/* Adds a string member, replacing any. */
static void
pod_static_set(cJSON *obj, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	cJSON_AddStringToObject(obj, name, value);
}

/* The object member name of obj, made when missing. */
static cJSON *
pod_static_object(cJSON *obj, const char *name)
{
	cJSON	*o = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsObject(o))
		return o;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
	return cJSON_AddObjectToObject(obj, name);
}

/* A member default, as the API server would set it. */
static void
pod_static_default(cJSON *obj, const char *name, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name) == NULL)
		cJSON_AddItemToObject(obj, name, value);
	else
		cJSON_Delete(value);
}

/* requests default to limits, per resource. */
static void
pod_static_requests(cJSON *c)
{
	cJSON		*res, *lim, *req, *l;

	res = cJSON_GetObjectItemCaseSensitive(c, "resources");
	lim = cJSON_GetObjectItemCaseSensitive(res, "limits");
	if (!cJSON_IsObject(lim))
		return;
	req = pod_static_object(res, "requests");
	cJSON_ArrayForEach(l, lim)
		if (l->string != NULL && cJSON_GetObjectItemCaseSensitive(req,
		    l->string) == NULL)
			cJSON_AddItemToObject(req, l->string,
			    cJSON_Duplicate(l, 1));
}

/* The container defaults of the API. */
static void
pod_static_container(cJSON *c)
{
	const char	*pp;

	pod_static_default(c, "terminationMessagePath",
	    cJSON_CreateString("/dev/termination-log"));
	pod_static_default(c, "terminationMessagePolicy",
	    cJSON_CreateString("File"));
	switch (pod_spec_pull_policy(c)) {
	case POD_PULL_ALWAYS:
		pp = "Always";
		break;
	case POD_PULL_NEVER:
		pp = "Never";
		break;
	default:
		pp = "IfNotPresent";
		break;
	}
	pod_static_default(c, "imagePullPolicy", cJSON_CreateString(pp));
	pod_static_requests(c);
}

/* The pod defaults of the API, and the toleration a kubelet adds. */
static void
pod_static_defaults(cJSON *spec)
{
	cJSON	*c, *tol, *t;

	pod_static_default(spec, "restartPolicy", cJSON_CreateString("Always"));
	pod_static_default(spec, "dnsPolicy", cJSON_CreateString(
	    "ClusterFirst"));
	pod_static_default(spec, "terminationGracePeriodSeconds",
	    cJSON_CreateNumber(30));
	pod_static_default(spec, "schedulerName", cJSON_CreateString(
	    "default-scheduler"));
	pod_static_default(spec, "securityContext", cJSON_CreateObject());
	pod_static_default(spec, "enableServiceLinks", cJSON_CreateTrue());
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec,
	    "initContainers"))
		if (cJSON_IsObject(c))
			pod_static_container(c);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec,
	    "containers"))
		if (cJSON_IsObject(c))
			pod_static_container(c);
	tol = cJSON_GetObjectItemCaseSensitive(spec, "tolerations");
	if (!cJSON_IsArray(tol)) {
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "tolerations");
		tol = cJSON_AddArrayToObject(spec, "tolerations");
	}
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "operator", "Exists");
	cJSON_AddStringToObject(t, "effect", "NoExecute");
	cJSON_AddItemToArray(tol, t);
}

/* The uid of a static pod: 128 bits of hash as 32 hex digits. */
static void
pod_static_uid(const cJSON *manifest, const char *node, const char *path,
    char uid[33])
{
	char	*text, *all, a[17], b[17];

	text = json_print(manifest);
	xasprintf(&all, "a%shost:%sfile:%s", text, node, path);
	pod_spec_fnv(all, strlen(all), a);
	all[0] = 'b';
	pod_spec_fnv(all, strlen(all), b);
	snprintf(uid, 33, "%s%s", a, b);
	free(all);
	free(text);
}

/* Checks a manifest and completes it in place into the pod to store. */
cJSON *
pod_static_pod(cJSON *m, const char *node, const char *path, char *err,
    size_t errlen)
{
	cJSON		*md, *ann, *spec;
	const char	*kind, *apiv, *name, *ns, *uid;
	char		 hash[33], *full;

	if (!cJSON_IsObject(m)) {
		snprintf(err, errlen, "not an object");
		return NULL;
	}
	kind = json_get_string(m, "kind");
	apiv = json_get_string(m, "apiVersion");
	if ((kind != NULL && strcmp(kind, "Pod") != 0) || (apiv != NULL &&
	    strcmp(apiv, "v1") != 0)) {
		snprintf(err, errlen, "not a v1 Pod");
		return NULL;
	}
	md = pod_static_object(m, "metadata");
	name = json_get_string(md, "name");
	ns = json_get_string(md, "namespace");
	if (!dnsname_subdomain(name) || strlen(name) + 1 + strlen(node) >
	    POD_STATIC_NAME_MAX) {
		snprintf(err, errlen, "metadata.name is missing or invalid");
		return NULL;
	}
	if (ns != NULL && *ns != '\0' && !dnsname_label(ns)) {
		snprintf(err, errlen, "metadata.namespace is invalid");
		return NULL;
	}
	if (!cJSON_IsObject(json_get(m, "spec"))) {
		snprintf(err, errlen, "the pod has no spec");
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(m, "status");
	uid = json_get_string(md, "uid");
	pod_static_uid(m, node, path, hash);
	if (uid == NULL || *uid == '\0')
		uid = hash;
	xasprintf(&full, "%s-%s", name, node);
	pod_static_set(md, "name", full);
	free(full);
	if (ns == NULL || *ns == '\0')
		pod_static_set(md, "namespace", "default");
	pod_static_set(md, "uid", uid);
	ann = pod_static_object(md, "annotations");
	pod_static_set(ann, POD_ANN_CONFIG_HASH, uid);
	pod_static_set(ann, POD_ANN_SOURCE, "file");
	spec = cJSON_GetObjectItemCaseSensitive(m, "spec");
	pod_static_set(spec, "nodeName", node);
	pod_static_defaults(spec);
	pod_static_default(m, "kind", cJSON_CreateString("Pod"));
	pod_static_default(m, "apiVersion", cJSON_CreateString("v1"));
	return m;
}

/* Reads one file whole (bounded); NULL with err. */
static char *
pod_static_read(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > POD_MANIFEST_MAX) {
		snprintf(err, errlen, "larger than %u bytes", POD_MANIFEST_MAX);
		close(fd);
		return NULL;
	}
	buf = xmalloc(POD_MANIFEST_MAX + 1);
	*len = 0;
	while (*len < POD_MANIFEST_MAX && (n = read(fd, buf + *len,
	    POD_MANIFEST_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* Makes the stored pod of one file (key and JSON), or tells why not. */
static void
pod_static_load(struct pod_static *st, struct pod_static_file *f)
{
	char		*path, *buf, err[512], stamp[64];
	cJSON		*m, *ann;
	const char	*ns, *name;
	size_t		 len;

	free(f->key);
	free(f->json);
	f->key = f->json = NULL;
	xasprintf(&path, "%s/%s", st->dir, f->name);
	if ((buf = pod_static_read(path, &len, err, sizeof(err))) != NULL) {
		m = pod_manifest_parse(buf, len, err, sizeof(err));
		free(buf);
		if (m != NULL && pod_static_pod(m, st->room->node.node_name,
		    path, err, sizeof(err)) != NULL) {
			clock_rfc3339(f->mtime.tv_sec, stamp, sizeof(stamp));
			ann = cJSON_GetObjectItemCaseSensitive(json_get(m,
			    "metadata"), "annotations");
			pod_static_set(ann, POD_ANN_SEEN, stamp);
			ns = json_get_string(m, "metadata.namespace");
			name = json_get_string(m, "metadata.name");
			f->key = store_key_static_pod(ns, name);
			f->json = json_print(m);
			log_info("static pods: %s: pod %s/%s uid %s", f->name,
			    ns, name, json_get_string(m, "metadata.uid"));
		} else if (m != NULL)
			cJSON_Delete(m);
		if (f->key != NULL) {
			cJSON_Delete(m);
			free(path);
			return;
		}
	}
	log_warnx("static pods: %s: %s, ignoring the file", path, err);
	free(path);
}

/* The record of a file name, made when new. */
static struct pod_static_file *
pod_static_file(struct pod_static *st, const char *name)
{
	struct pod_static_file	*f;

	TAILQ_FOREACH(f, &st->files, entry)
		if (strcmp(f->name, name) == 0)
			return f;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&st->files, f, entry);
	return f;
}

/* Forgets a file. */
static void
pod_static_file_free(struct pod_static *st, struct pod_static_file *f)
{
	TAILQ_REMOVE(&st->files, f, entry);
	free(f->name);
	free(f->key);
	free(f->json);
	free(f);
}

/* qsort of names. */
static int
pod_static_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry of the folder: read again when it changed. */
static void
pod_static_entry(struct pod_static *st, const char *name)
{
	struct pod_static_file	*f;
	struct stat		 sb;
	char			*path;

	xasprintf(&path, "%s/%s", st->dir, name);
	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		free(path);
		return;
	}
	free(path);
	f = pod_static_file(st, name);
	f->seen = 1;
	if (f->dev == sb.st_dev && f->ino == sb.st_ino &&
	    f->size == sb.st_size && f->mtime.tv_sec == sb.st_mtim.tv_sec &&
	    f->mtime.tv_nsec == sb.st_mtim.tv_nsec)
		return;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->size = sb.st_size;
	f->mtime = sb.st_mtim;
	pod_static_load(st, f);
}

/* Reads the folder's entries, sorted, into the file records. */
static void
pod_static_readdir(struct pod_static *st)
{
	struct pod_static_file	*f, *next;
	struct dirent		*de;
	DIR			*d;
	char			**names = NULL;
	size_t			  n = 0, i;

	TAILQ_FOREACH(f, &st->files, entry)
		f->seen = 0;
	if ((d = opendir(st->dir)) == NULL) {
		if (!st->missing)
			log_info("static pods: %s: %s", st->dir,
			    strerror(errno));
		st->missing = 1;
	} else {
		st->missing = 0;
		while ((de = readdir(d)) != NULL && n < POD_STATIC_MAX_FILES) {
			if (de->d_name[0] == '.')
				continue;
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
		closedir(d);
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), pod_static_cmp);
	for (i = 0; i < n; i++) {
		pod_static_entry(st, names[i]);
		free(names[i]);
	}
	free(names);
	TAILQ_FOREACH_SAFE(f, &st->files, entry, next)
		if (!f->seen)
			pod_static_file_free(st, f);
}

/* The file that gives key first (by name), or NULL. */
static struct pod_static_file *
pod_static_owner(struct pod_static *st, const char *key)
{
	struct pod_static_file	*f;

	TAILQ_FOREACH(f, &st->files, entry)
		if (f->key != NULL && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

struct pod_static_diff {
	struct pod_static	*st;
	struct store_batch	*b;
	size_t			 n;
};

/* A stored static pod: deleted when no file gives it, updated if changed. */
static int
pod_static_diff_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct pod_static_diff	*d = arg;
	struct pod_static_file	*f = pod_static_owner(d->st, key);

	if (f == NULL) {
		log_info("static pods: %s is gone", key);
		store_batch_delete(d->b, key);
		d->n++;
	} else if (strlen(f->json) != len || memcmp(f->json, val, len) != 0) {
		store_batch_put(d->b, key, f->json, strlen(f->json));
		d->n++;
	}
	return 0;
}

/* Stores the pods of the files that the store does not have yet. */
static void
pod_static_add_new(struct pod_static *st, struct pod_static_diff *d)
{
	struct pod_static_file	*f;
	char			*val;
	size_t			 len;

	TAILQ_FOREACH(f, &st->files, entry) {
		if (f->key == NULL || pod_static_owner(st, f->key) != f)
			continue;
		if (store_get(st->room->store, f->key, &val, &len) == 0) {
			free(val);
			continue;
		}
		store_batch_put(d->b, f->key, f->json, strlen(f->json));
		d->n++;
	}
}

/* One scan: the folder against s/, written in one batch. */
static void
pod_static_scan(struct pod_static *st)
{
	struct pod_static_diff	d = { st, NULL, 0 };

	pod_static_readdir(st);
	d.b = store_batch_new(st->room->store);
	if (store_scan(st->room->store, STORE_KEY_STATIC, pod_static_diff_cb,
	    &d) == -1) {
		store_batch_free(d.b);
		return;
	}
	pod_static_add_new(st, &d);
	if (d.n == 0)
		store_batch_free(d.b);
	else
		store_batch_commit(d.b);
}

/* The rescan timer. */
static void
pod_static_scan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pod_static	*st = arg;

	pod_static_scan(st);
	clock_timer_add(st->ev_scan, POD_STATIC_SCAN_MS);
}

/* The stored object under key, parsed, or NULL. */
static cJSON *
pod_static_get(struct pod_room *room, const char *key)
{
	const char	*errstr;
	cJSON		*obj;
	char		*val;
	size_t		 len;

	if (store_get(room->store, key, &val, &len) != 0)
		return NULL;
	obj = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	return obj;
}

/* The mirror annotation of a stored pod, or NULL. */
static const char *
pod_static_mirror_of(const cJSON *pod)
{
	const cJSON	*a;

	a = cJSON_GetObjectItemCaseSensitive(json_get(pod,
	    "metadata.annotations"), POD_ANN_MIRROR);
	return cJSON_IsString(a) ? a->valuestring : NULL;
}

/* The uid of the mirror pod stored for a static pod, if it is its. */
char *
pod_static_mirror_uid(struct pod_room *room, const char *ns,
    const char *name, const char *static_uid)
{
	const char	*m, *uid;
	cJSON		*pod;
	char		*key, *out = NULL;

	key = store_key_object("pods", ns, name);
	pod = pod_static_get(room, key);
	free(key);
	m = pod_static_mirror_of(pod);
	uid = json_get_string(pod, "metadata.uid");
	if (m != NULL && strcmp(m, static_uid) == 0 && uid != NULL)
		out = xstrdup(uid);
	cJSON_Delete(pod);
	return out;
}

/* Whether a request for key went out lately; records it when not. */
static int
pod_static_asked(struct pod_static *st, const char *key)
{
	struct pod_static_req	*r, *next;
	uint64_t		 now = clock_mono_ms();

	TAILQ_FOREACH_SAFE(r, &st->reqs, entry, next) {
		if (now - r->at > POD_STATIC_MIRROR_MS * 9) {
			/* long answered one way or the other */
			TAILQ_REMOVE(&st->reqs, r, entry);
			free(r->key);
			free(r);
			continue;
		}
		if (strcmp(r->key, key) != 0)
			continue;
		if (now - r->at < POD_STATIC_MIRROR_MS * 3)
			return 1;
		r->at = now;
		return 0;
	}
	r = xcalloc(1, sizeof(*r));
	r->key = xstrdup(key);
	r->at = now;
	TAILQ_INSERT_TAIL(&st->reqs, r, entry);
	return 0;
}

/* The mirror pod of a static pod: owned by the Node, no uid of its own. */
static char *
pod_static_mirror_body(cJSON *pod, const char *node, const char *node_uid)
{
	cJSON	*md, *refs, *ref;
	char	*body;

	md = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	pod_static_set(pod_static_object(md, "annotations"), POD_ANN_MIRROR,
	    json_get_string(md, "uid"));
	cJSON_DeleteItemFromObjectCaseSensitive(md, "uid");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "ownerReferences");
	refs = cJSON_AddArrayToObject(md, "ownerReferences");
	ref = cJSON_CreateObject();
	cJSON_AddStringToObject(ref, "apiVersion", "v1");
	cJSON_AddStringToObject(ref, "kind", "Node");
	cJSON_AddStringToObject(ref, "name", node);
	cJSON_AddStringToObject(ref, "uid", node_uid);
	cJSON_AddTrueToObject(ref, "controller");
	cJSON_AddItemToArray(refs, ref);
	cJSON_DeleteItemFromObjectCaseSensitive(pod, "status");
	body = json_print(pod);
	return body;
}

/* Records the creation of the static pod's mirror pod for upstream. */
static void
pod_static_mirror_create(struct pod_static *st, cJSON *spod, const char *ns,
    const char *name, const char *node_uid)
{
	struct store_batch	*b;
	char			*body;

	body = pod_static_mirror_body(spod, st->room->node.node_name,
	    node_uid);
	b = store_batch_new(st->room->store);
	if (store_outbox_mirror_create(b, ns, name, body) == -1) {
		log_warnx("static pods: %s/%s: no mirror pod (bad name)", ns,
		    name);
		store_batch_free(b);
	} else if (store_batch_commit(b) == 0)
		log_info("static pods: creating the mirror pod of %s/%s", ns,
		    name);
	free(body);
}

/* Records the deletion of a mirror pod (by its uid) for upstream. */
static int
pod_static_mirror_delete(struct pod_static *st, const char *ns,
    const char *name, const char *uid)
{
	struct store_batch	*b;

	b = store_batch_new(st->room->store);
	if (store_outbox_pod_delete(b, ns, name, uid) == -1) {
		store_batch_free(b);
		return -1;
	}
	return store_batch_commit(b);
}

/* The uid of this node's Node object in the store, or NULL; caller frees. */
static char *
pod_static_node_uid(struct pod_static *st)
{
	const char	*uid;
	cJSON		*node;
	char		*key, *out;

	key = store_key_object("nodes", "", st->room->node.node_name);
	node = pod_static_get(st->room, key);
	free(key);
	uid = json_get_string(node, "metadata.uid");
	out = uid != NULL && *uid != '\0' ? xstrdup(uid) : NULL;
	cJSON_Delete(node);
	return out;
}

/* Creates, keeps or deletes the mirror pod of one static pod. */
void
pod_static_mirror_check(struct pod_static *st, const char *ns,
    const char *name)
{
	const char	*m, *uid, *suid;
	cJSON		*spod, *mpod;
	char		*skey, *mkey, *rkey, *node_uid;

	if (!st->room->cluster ||
	    (node_uid = pod_static_node_uid(st)) == NULL)
		return;
	skey = store_key_static_pod(ns, name);
	mkey = store_key_object("pods", ns, name);
	spod = pod_static_get(st->room, skey);
	mpod = pod_static_get(st->room, mkey);
	m = pod_static_mirror_of(mpod);
	uid = json_get_string(mpod, "metadata.uid");
	suid = json_get_string(spod, "metadata.uid");
	if (mpod != NULL && uid != NULL && (spod == NULL || m == NULL ||
	    suid == NULL || strcmp(m, suid) != 0) &&
	    (spod != NULL || m != NULL)) {
		/* stale or foreign: delete it; a fresh one follows */
		xasprintf(&rkey, "delete %s", uid);
		if (!pod_static_asked(st, rkey) &&
		    pod_static_mirror_delete(st, ns, name, uid) == 0)
			log_info("static pods: deleting the mirror pod of "
			    "%s/%s: %s", ns, name, spod == NULL ?
			    "the static pod is gone" : "it is out of date");
		free(rkey);
	} else if (mpod == NULL && spod != NULL) {
		xasprintf(&rkey, "create %s", suid != NULL ? suid : "");
		if (!pod_static_asked(st, rkey))
			pod_static_mirror_create(st, spod, ns, name, node_uid);
		free(rkey);
	}
	cJSON_Delete(spod);
	cJSON_Delete(mpod);
	free(mkey);
	free(skey);
	free(node_uid);
}

/* Every static pod's mirror, now and then. */
static int
pod_static_mirror_scan_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	struct pod_static	*st = arg;
	const char		*p = key + strlen(STORE_KEY_STATIC), *slash;
	char			*ns;

	if ((slash = strchr(p, '/')) == NULL)
		return 0;
	ns = xstrndup(p, (size_t)(slash - p));
	pod_static_mirror_check(st, ns, slash + 1);
	free(ns);
	return 0;
}

/* Every mirror pod in o/pods/, whose static pod may be gone. */
static int
pod_static_mirror_pods_cb(const char *key, const char *val, size_t len,
    void *arg)
{
	struct pod_static	*st = arg;
	const char		*p = key + strlen(STORE_KEY_PODS), *slash;
	char			*ns;

	/* cheap test first: only mirror pods are checked */
	if (memmem(val, len, POD_ANN_MIRROR, strlen(POD_ANN_MIRROR)) ==
	    NULL || (slash = strchr(p, '/')) == NULL)
		return 0;
	ns = xstrndup(p, (size_t)(slash - p));
	pod_static_mirror_check(st, ns, slash + 1);
	free(ns);
	return 0;
}

/* Now and then: every static pod's mirror, every mirror's static pod. */
static void
pod_static_mirror_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pod_static	*st = arg;

	store_scan(st->room->store, STORE_KEY_STATIC, pod_static_mirror_scan_cb,
	    st);
	store_scan(st->room->store, STORE_KEY_PODS, pod_static_mirror_pods_cb,
	    st);
	clock_timer_add(st->ev_mirror, POD_STATIC_MIRROR_MS);
}

/* The stored Node changed (registered, uid known): check mirrors now. */
static void
pod_static_node_cb(const struct store_change *ch, void *arg)
{
	struct pod_static	*st = arg;

	if (ch->type != STORE_CHANGE_DELETED)
		event_active(st->ev_mirror, EV_TIMEOUT, 0);
}

/* Scans the folder once now (the room then finds the pods stored). */
struct pod_static *
pod_static_new(struct pod_room *room)
{
	struct pod_static	*st;
	char			*key;

	st = xcalloc(1, sizeof(*st));
	st->room = room;
	st->dir = xstrdup(room->conf->static_pod_dir);
	TAILQ_INIT(&st->files);
	TAILQ_INIT(&st->reqs);
	if ((st->ev_scan = evtimer_new(room->base, pod_static_scan_cb,
	    st)) == NULL || (st->ev_mirror = evtimer_new(room->base,
	    pod_static_mirror_cb, st)) == NULL)
		fatalx("static pods: cannot create timers");
	if (*st->dir == '\0') {
		/* no folder: whatever was stored from one goes */
		pod_static_scan(st);
		return st;
	}
	pod_static_scan(st);
	clock_timer_add(st->ev_scan, POD_STATIC_SCAN_MS);
	if (room->cluster) {
		clock_timer_add(st->ev_mirror, POD_STATIC_MIRROR_MS);
		key = store_key_object("nodes", "", room->node.node_name);
		st->node_sub = store_subscribe(room->store, key,
		    pod_static_node_cb, st);
		free(key);
	}
	return st;
}

/* Stops scanning; stored static pods stay for the next start. */
void
pod_static_free(struct pod_static *st)
{
	struct pod_static_req	*r;

	if (st == NULL)
		return;
	while (!TAILQ_EMPTY(&st->files))
		pod_static_file_free(st, TAILQ_FIRST(&st->files));
	while ((r = TAILQ_FIRST(&st->reqs)) != NULL) {
		TAILQ_REMOVE(&st->reqs, r, entry);
		free(r->key);
		free(r);
	}
	store_unsubscribe(st->node_sub);
	event_free(st->ev_scan);
	event_free(st->ev_mirror);
	free(st->dir);
	free(st);
}
