/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configmaps and secrets that local pods reference. The Node
 * authorizer lets a node read exactly these, one object at a time, so each
 * one gets a per-object reflector (its namespace and the field selector
 * metadata.name=<name>), started when the first pod in the store
 * references it and stopped, its object and resume point deleted from the
 * store, when the last such pod is gone. Driven by a subscription to
 * o/pods/ plus a scan of the pods at start; objects left in the store that
 * no stored pod references are swept at start.
 */
#include "config.h"

#include <sys/queue.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kube_int.h"
#include "kube/kube_reflector.h"
#include "store/store.h"

#define KUBE_REFS_PODS		STORE_KEY_PODS

enum kube_refs_kind {
	KUBE_REFS_CONFIGMAP,
	KUBE_REFS_SECRET,
};

static const struct kube_resource kube_refs_res[] = {
	[KUBE_REFS_CONFIGMAP] = { "configmaps", "/api/v1", "configmaps", 1 },
	[KUBE_REFS_SECRET] = { "secrets", "/api/v1", "secrets", 1 },
};

/* One referenced object and the number of pods referencing it. */
struct kube_refs_ref {
	TAILQ_ENTRY(kube_refs_ref)	 entry;
	enum kube_refs_kind		 kind;
	char				*ns;
	char				*name;
	char				*key;	/* o/<resource>/<ns>/<name> */
	unsigned int			 pods;
	struct kube_reflector		*r;
};

/* One stored pod and what it references. */
struct kube_refs_pod {
	TAILQ_ENTRY(kube_refs_pod)	 entry;
	char				*key;
	struct kube_refs_ref		**refs;
	size_t				 nrefs;
};

struct kube_refs {
	struct kube			*k;
	struct store_sub		*sub;
	TAILQ_HEAD(, kube_refs_ref)	 refs;
	TAILQ_HEAD(, kube_refs_pod)	 pods;
};

/* The names one pod references, pointing into its JSON tree. */
struct kube_refs_want {
	struct {
		enum kube_refs_kind	 kind;
		const char		*name;
	}	*v;
	size_t	 n;
	size_t	 cap;
};

/* Adds a (kind, name) once; names that could not exist are ignored. */
static void
kube_refs_want_add(struct kube_refs_want *w, enum kube_refs_kind kind,
    const char *name)
{
	size_t	i;

	if (!dnsname_subdomain(name))
		return;
	for (i = 0; i < w->n; i++)
		if (w->v[i].kind == kind && strcmp(w->v[i].name, name) == 0)
			return;
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 8 : w->cap * 2;
		w->v = xreallocarray(w->v, w->cap, sizeof(*w->v));
	}
	w->v[w->n].kind = kind;
	w->v[w->n].name = name;
	w->n++;
}

/* Volumes: configMap, secret and projected sources. */
static void
kube_refs_volumes(struct kube_refs_want *w, const cJSON *spec)
{
	const cJSON	*vol, *src;

	cJSON_ArrayForEach(vol, json_get(spec, "volumes")) {
		if (json_get(vol, "configMap") != NULL)
			kube_refs_want_add(w, KUBE_REFS_CONFIGMAP,
			    json_get_string(vol, "configMap.name"));
		if (json_get(vol, "secret") != NULL)
			kube_refs_want_add(w, KUBE_REFS_SECRET,
			    json_get_string(vol, "secret.secretName"));
		cJSON_ArrayForEach(src, json_get(vol, "projected.sources")) {
			kube_refs_want_add(w, KUBE_REFS_CONFIGMAP,
			    json_get_string(src, "configMap.name"));
			kube_refs_want_add(w, KUBE_REFS_SECRET,
			    json_get_string(src, "secret.name"));
		}
	}
}

/* env valueFrom and envFrom of every container of one list. */
static void
kube_refs_containers(struct kube_refs_want *w, const cJSON *list)
{
	const cJSON	*c, *e;

	cJSON_ArrayForEach(c, list) {
		cJSON_ArrayForEach(e, json_get(c, "env")) {
			kube_refs_want_add(w, KUBE_REFS_CONFIGMAP,
			    json_get_string(e, "valueFrom.configMapKeyRef.name"));
			kube_refs_want_add(w, KUBE_REFS_SECRET,
			    json_get_string(e, "valueFrom.secretKeyRef.name"));
		}
		cJSON_ArrayForEach(e, json_get(c, "envFrom")) {
			kube_refs_want_add(w, KUBE_REFS_CONFIGMAP,
			    json_get_string(e, "configMapRef.name"));
			kube_refs_want_add(w, KUBE_REFS_SECRET,
			    json_get_string(e, "secretRef.name"));
		}
	}
}

/* Everything a pod references; cJSON_ArrayForEach copes with non-arrays. */
static void
kube_refs_collect(struct kube_refs_want *w, const cJSON *pod)
{
	const cJSON	*spec = json_get(pod, "spec"), *s;

	if (!cJSON_IsObject(spec))
		return;
	kube_refs_volumes(w, spec);
	kube_refs_containers(w, json_get(spec, "initContainers"));
	kube_refs_containers(w, json_get(spec, "containers"));
	kube_refs_containers(w, json_get(spec, "ephemeralContainers"));
	cJSON_ArrayForEach(s, json_get(spec, "imagePullSecrets"))
		kube_refs_want_add(w, KUBE_REFS_SECRET,
		    json_get_string(s, "name"));
}

/* The namespace part of o/pods/<ns>/<name>, or NULL; caller frees. */
static char *
kube_refs_pod_ns(const char *key)
{
	const char	*ns = key + strlen(KUBE_REFS_PODS), *slash;

	if (strncmp(key, KUBE_REFS_PODS, strlen(KUBE_REFS_PODS)) != 0 ||
	    (slash = strchr(ns, '/')) == NULL || slash == ns)
		return NULL;
	return xstrndup(ns, (size_t)(slash - ns));
}

/* Finds a followed object, or starts following it. */
static struct kube_refs_ref *
kube_refs_get(struct kube_refs *refs, enum kube_refs_kind kind,
    const char *ns, const char *name)
{
	struct kube_refs_ref	*ref;
	char			*sel;

	TAILQ_FOREACH(ref, &refs->refs, entry) {
		if (ref->kind == kind && strcmp(ref->ns, ns) == 0 &&
		    strcmp(ref->name, name) == 0)
			return ref;
	}
	ref = xcalloc(1, sizeof(*ref));
	ref->kind = kind;
	ref->ns = xstrdup(ns);
	ref->name = xstrdup(name);
	ref->key = store_key_object(kube_refs_res[kind].store_name, ns, name);
	xasprintf(&sel, "metadata.name=%s", name);
	ref->r = kube_reflector_new(refs->k, &kube_refs_res[kind], ns, sel,
	    KUBE_REFLECTOR_GRAPH, NULL, NULL);
	free(sel);
	TAILQ_INSERT_TAIL(&refs->refs, ref, entry);
	log_info("refs: following %s", kube_reflector_name(ref->r));
	kube_reflector_start(ref->r);
	return ref;
}

/* Frees a ref; with forget, its object and resume point leave the store. */
static void
kube_refs_ref_free(struct kube_refs *refs, struct kube_refs_ref *ref,
    int forget)
{
	TAILQ_REMOVE(&refs->refs, ref, entry);
	if (forget) {
		log_info("refs: dropping %s: no pod references it",
		    kube_reflector_name(ref->r));
		kube_reflector_forget(ref->r);
	}
	kube_reflector_free(ref->r);
	free(ref->ns);
	free(ref->name);
	free(ref->key);
	free(ref);
}

/* One pod fewer references ref; the last one stops it. */
static void
kube_refs_release(struct kube_refs *refs, struct kube_refs_ref *ref)
{
	if (ref->pods > 0 && --ref->pods == 0)
		kube_refs_ref_free(refs, ref, 1);
}

/* A known pod by store key; pods per node are few, a list will do. */
static struct kube_refs_pod *
kube_refs_pod_find(struct kube_refs *refs, const char *key)
{
	struct kube_refs_pod	*pod;

	TAILQ_FOREACH(pod, &refs->pods, entry)
		if (strcmp(pod->key, key) == 0)
			return pod;
	return NULL;
}

/* A pod is gone: releases everything it referenced. */
static void
kube_refs_pod_delete(struct kube_refs *refs, const char *key)
{
	struct kube_refs_pod	*pod;
	size_t			 i;

	if ((pod = kube_refs_pod_find(refs, key)) == NULL)
		return;
	TAILQ_REMOVE(&refs->pods, pod, entry);
	for (i = 0; i < pod->nrefs; i++)
		kube_refs_release(refs, pod->refs[i]);
	free(pod->refs);
	free(pod->key);
	free(pod);
}

/*
 * A pod was stored: takes the references it has now before releasing
 * those it had, so an unchanged reference is never stopped and restarted.
 */
static void
kube_refs_pod_update(struct kube_refs *refs, const char *key,
    const char *val, size_t len)
{
	struct kube_refs_want	  w = { NULL, 0, 0 };
	struct kube_refs_pod	 *pod;
	struct kube_refs_ref	**old, **now;
	cJSON			 *root;
	const char		 *errstr;
	char			 *ns;
	size_t			  i, nold;

	if ((ns = kube_refs_pod_ns(key)) == NULL)
		return;
	if ((root = json_parse(val, len, STORE_MAX_VALUE, &errstr)) == NULL)
		log_warnx("refs: %s: %s, taking it as referencing nothing",
		    key, errstr);
	kube_refs_collect(&w, root);
	now = xreallocarray(NULL, w.n + 1, sizeof(*now));
	for (i = 0; i < w.n; i++) {
		now[i] = kube_refs_get(refs, w.v[i].kind, ns, w.v[i].name);
		now[i]->pods++;
	}
	if ((pod = kube_refs_pod_find(refs, key)) == NULL) {
		pod = xcalloc(1, sizeof(*pod));
		pod->key = xstrdup(key);
		TAILQ_INSERT_TAIL(&refs->pods, pod, entry);
	}
	old = pod->refs;
	nold = pod->nrefs;
	pod->refs = now;
	pod->nrefs = w.n;
	for (i = 0; i < nold; i++)
		kube_refs_release(refs, old[i]);
	free(old);
	free(w.v);
	cJSON_Delete(root);
	free(ns);
}

/* The subscription to o/pods/: on the loop after each commit. */
static void
kube_refs_change_cb(const struct store_change *c, void *arg)
{
	struct kube_refs	*refs = arg;

	if (c->val == NULL)
		kube_refs_pod_delete(refs, c->key);
	else
		kube_refs_pod_update(refs, c->key, c->val, c->len);
}

/* The scan at start: every stored pod, as if just stored. */
static int
kube_refs_scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	kube_refs_pod_update(arg, key, val, len);
	return 0;
}

struct kube_refs_sweep {
	struct kube_refs	*refs;
	struct store_batch	*b;
	size_t			 n;
};

/* Deletes a stored object or resume point no followed ref owns. */
static int
kube_refs_sweep_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct kube_refs_sweep	*sw = arg;
	struct kube_refs_ref	*ref;

	TAILQ_FOREACH(ref, &sw->refs->refs, entry) {
		/* o/configmaps/ns/name and v/configmaps/ns/name */
		if (strcmp(key + 1, ref->key + 1) == 0)
			return 0;
	}
	log_debug("refs: sweeping %s: no pod references it", key);
	store_batch_delete(sw->b, key);
	sw->n++;
	return 0;
}

/* At start: objects left from pods gone while edgesite was down. */
static void
kube_refs_sweep(struct kube_refs *refs)
{
	static const char *const prefixes[] = {
		STORE_KEY_OBJECTS_OF("configmaps"),
		STORE_KEY_VERSIONS_OF("configmaps"),
		STORE_KEY_OBJECTS_OF("secrets"),
		STORE_KEY_VERSIONS_OF("secrets"),
	};
	struct kube_refs_sweep	 sw = { refs, NULL, 0 };
	size_t			 i;

	sw.b = store_batch_new(refs->k->store);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (store_scan(refs->k->store, prefixes[i], kube_refs_sweep_cb,
		    &sw) == -1) {
			store_batch_free(sw.b);
			return;
		}
	}
	if (sw.n == 0) {
		store_batch_free(sw.b);
		return;
	}
	if (store_batch_commit(sw.b) == 0)
		log_info("refs: swept %zu unreferenced keys", sw.n);
}

/* Subscribes first so no change falls between the scan and the feed. */
struct kube_refs *
kube_refs_new(struct kube *k)
{
	struct kube_refs	*refs;

	refs = xcalloc(1, sizeof(*refs));
	refs->k = k;
	TAILQ_INIT(&refs->refs);
	TAILQ_INIT(&refs->pods);
	refs->sub = store_subscribe(k->store, KUBE_REFS_PODS,
	    kube_refs_change_cb, refs);
	if (store_scan(k->store, KUBE_REFS_PODS, kube_refs_scan_cb,
	    refs) == 0)
		kube_refs_sweep(refs);
	return refs;
}

/* Stops following; the store keeps the objects for an offline start. */
void
kube_refs_free(struct kube_refs *refs)
{
	struct kube_refs_pod	*pod;
	struct kube_refs_ref	*ref;

	if (refs == NULL)
		return;
	if (refs->sub != NULL)
		store_unsubscribe(refs->sub);
	while ((pod = TAILQ_FIRST(&refs->pods)) != NULL) {
		TAILQ_REMOVE(&refs->pods, pod, entry);
		free(pod->refs);
		free(pod->key);
		free(pod);
	}
	while ((ref = TAILQ_FIRST(&refs->refs)) != NULL)
		kube_refs_ref_free(refs, ref, 0);
	free(refs);
}

/* Back online: every follower in a transport back-off retries now. */
void
kube_refs_kick(struct kube_refs *refs)
{
	struct kube_refs_ref	*ref;

	if (refs == NULL)
		return;
	TAILQ_FOREACH(ref, &refs->refs, entry)
		kube_reflector_kick(ref->r);
}
