/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod room: desired pods from the store, actual state from the
 * runtime. Every stored pod -- the cluster's under o/pods/ (mirror pods
 * excluded: they only show static pods upstream) and static ones under
 * s/ -- gets a machine (pod_sync.c) keyed by its uid; a change of the
 * stored object, of a configmap or secret of its namespace, or of what
 * the runtime has of it kicks that machine. What the runtime has is
 * relisted every second (the kubelet's PLEG): each pod's sandboxes and
 * containers are reduced to a fingerprint, a changed fingerprint kicks
 * the pod, and runtime objects of a uid no pod has become orphans whose
 * machine stops and removes them. The room also owns the node facts pods
 * see (name, address, memory, resolv.conf) and the static pod folder.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/compat.h"
#include "core/conf.h"
#include "core/health.h"
#include "core/json.h"
#include "core/log.h"
#include "core/node.h"
#include "core/xmalloc.h"
#include "pod/pod.h"
#include "pod/pod_cri.h"
#include "pod/pod_sync.h"
#include "store/store.h"

#define POD_RELIST_MS		1000
#define POD_RESOLV_MAX		(64 * 1024)

static void	pod_room_relist(struct pod_room *);

/* Reads a small file into a new string, or NULL. */
static char *
pod_room_read_file(const char *path, size_t max)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(max + 1);
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The address of interface name (or the first non-loopback one). */
static char *
pod_room_iface_ip(const char *name)
{
	struct ifaddrs	*ifa, *i;
	char		 buf[INET6_ADDRSTRLEN];
	char		*out = NULL;

	if (getifaddrs(&ifa) == -1)
		return NULL;
	for (i = ifa; i != NULL && out == NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (name != NULL && *name != '\0' ?
		    strcmp(i->ifa_name, name) != 0 :
		    (i->ifa_flags & IFF_LOOPBACK) != 0)
			continue;
		if (inet_ntop(AF_INET, &((struct sockaddr_in *)
		    i->ifa_addr)->sin_addr, buf, sizeof(buf)) != NULL)
			out = xstrdup(buf);
	}
	freeifaddrs(ifa);
	return out;
}

/*
 * The node's address: node-ip, else that of interface-name, else the one
 * the default route leaves from (a UDP connect sends nothing), else any
 * non-loopback one, else loopback.
 */
static char *
pod_room_host_ip(const struct conf *c)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 buf[INET_ADDRSTRLEN], *ip;
	int			 fd;

	if (c->node_ip != NULL && *c->node_ip != '\0')
		return xstrdup(c->node_ip);
	if (c->interface_name != NULL && *c->interface_name != '\0' &&
	    (ip = pod_room_iface_ip(c->interface_name)) != NULL)
		return ip;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	sin.sin_addr.s_addr = htonl(0x08080808);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&sin, &len) == 0 &&
		    inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof(buf)) !=
		    NULL) {
			close(fd);
			return xstrdup(buf);
		}
		close(fd);
	}
	if ((ip = pod_room_iface_ip(NULL)) != NULL)
		return ip;
	return xstrdup("127.0.0.1");
}

/* The node facts pods see. */
static void
pod_room_node(struct pod_room *room, const struct node_ident *ident)
{
	struct pod_node	*n = &room->node;
	long		 pages, psize, cpus;

	n->conf = room->conf;
	n->node_name = xstrdup(ident->name);
	n->host_ip = pod_room_host_ip(room->conf);
	n->state_dir = room->conf->state_dir;
	n->resolv = pod_room_read_file("/etc/resolv.conf", POD_RESOLV_MAX);
	pages = sysconf(_SC_PHYS_PAGES);
	psize = sysconf(_SC_PAGESIZE);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	n->mem_capacity = pages > 0 && psize > 0 ? (int64_t)pages * psize : 0;
	n->cpu_milli = cpus > 0 ? (int64_t)cpus * 1000 : 1000;
}

/* A machine by uid; pods per node are few, a list will do. */
struct pod_sync *
pod_room_find(struct pod_room *room, const char *uid)
{
	struct pod_sync	*ps;

	TAILQ_FOREACH(ps, &room->pods, entry)
		if (strcmp(pod_sync_uid(ps), uid) == 0)
			return ps;
	return NULL;
}

/* pod_lookup_cb over the store: the object parsed, or NULL. */
cJSON *
pod_room_lookup(const char *resource, const char *ns, const char *name,
    void *arg)
{
	struct pod_room	*room = arg;
	const char	*errstr;
	cJSON		*obj;
	char		*key, *val;
	size_t		 len;

	key = store_key_object(resource, ns, name);
	if (store_get(room->store, key, &val, &len) != 0) {
		free(key);
		return NULL;
	}
	free(key);
	obj = json_parse(val, len, STORE_MAX_VALUE, &errstr);
	free(val);
	return obj;
}

/* Whether a stored cluster pod is a mirror pod (not ours to run). */
static int
pod_room_is_mirror(const cJSON *pod)
{
	return cJSON_GetObjectItemCaseSensitive(json_get(pod,
	    "metadata.annotations"), POD_ANN_MIRROR) != NULL;
}

/* "ns" and "name" of o/pods/<ns>/<name> or s/<ns>/<name>. */
static int
pod_room_split_key(const char *key, char **ns, char **name)
{
	const char	*p, *slash;

	if (strncmp(key, STORE_KEY_PODS, strlen(STORE_KEY_PODS)) == 0)
		p = key + strlen(STORE_KEY_PODS);
	else if (strncmp(key, STORE_KEY_STATIC, strlen(STORE_KEY_STATIC)) == 0)
		p = key + strlen(STORE_KEY_STATIC);
	else
		return -1;
	if ((slash = strchr(p, '/')) == NULL || slash == p ||
	    slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return -1;
	*ns = xstrndup(p, (size_t)(slash - p));
	*name = xstrdup(slash + 1);
	return 0;
}

/*
 * A stored pod appeared or changed: its machine takes it, or a machine
 * is made; a new uid under the same key replaces the old pod, which is
 * then terminated as deleted.
 */
static void
pod_room_put(struct pod_room *room, const char *key, const char *val,
    size_t len)
{
	struct pod_sync	*ps, *old;
	const char	*errstr, *uid, *node;
	cJSON		*pod;
	char		*ns, *name;

	if ((pod = json_parse(val, len, STORE_MAX_VALUE, &errstr)) == NULL) {
		log_warnx("pods: %s: %s, ignored", key, errstr);
		return;
	}
	uid = json_get_string(pod, "metadata.uid");
	node = json_get_string(pod, "spec.nodeName");
	if (uid == NULL || *uid == '\0' || pod_room_is_mirror(pod) ||
	    (node != NULL && *node != '\0' && strcmp(node,
	    room->node.node_name) != 0) ||
	    pod_room_split_key(key, &ns, &name) == -1) {
		if (pod_room_is_mirror(pod) && room->st != NULL &&
		    pod_room_split_key(key, &ns, &name) == 0) {
			pod_static_mirror_check(room->st, ns, name);
			free(ns);
			free(name);
		}
		cJSON_Delete(pod);
		return;
	}
	TAILQ_FOREACH(old, &room->pods, entry) {
		if (pod_sync_key(old) == NULL || strcmp(pod_sync_key(old),
		    key) != 0 || strcmp(pod_sync_uid(old), uid) == 0)
			continue;
		if (pod_sync_state(old) != POD_SYNC_DONE)
			log_info("pod %s/%s: uid %s replaces %s", ns, name,
			    uid, pod_sync_uid(old));
		pod_sync_update(old, NULL);
	}
	if ((ps = pod_room_find(room, uid)) != NULL)
		pod_sync_update(ps, pod);
	else {
		ps = pod_sync_new(room, key, pod, uid, ns, name);
		TAILQ_INSERT_TAIL(&room->pods, ps, entry);
	}
	if (strncmp(key, STORE_KEY_STATIC, strlen(STORE_KEY_STATIC)) == 0 &&
	    room->st != NULL)
		pod_static_mirror_check(room->st, ns, name);
	free(ns);
	free(name);
}

/* A stored pod is gone: its machine terminates and removes it. */
static void
pod_room_delete(struct pod_room *room, const char *key)
{
	struct pod_sync	*ps;
	char		*ns, *name;

	TAILQ_FOREACH(ps, &room->pods, entry) {
		if (pod_sync_key(ps) != NULL && strcmp(pod_sync_key(ps),
		    key) == 0)
			pod_sync_update(ps, NULL);
	}
	if (room->st != NULL && pod_room_split_key(key, &ns, &name) == 0) {
		pod_static_mirror_check(room->st, ns, name);
		free(ns);
		free(name);
	}
}

/* The subscriptions to o/pods/ and s/. */
static void
pod_room_change_cb(const struct store_change *c, void *arg)
{
	struct pod_room	*room = arg;

	if (c->val == NULL)
		pod_room_delete(room, c->key);
	else
		pod_room_put(room, c->key, c->val, c->len);
}

/* A configmap or secret changed: the pods of its namespace look again. */
static void
pod_room_ref_cb(const struct store_change *c, void *arg)
{
	struct pod_room	*room = arg;
	struct pod_sync	*ps;
	const char	*p, *slash, *ns;
	size_t		 nslen;

	/* o/configmaps/<ns>/<name> */
	if ((p = strchr(c->key + 2, '/')) == NULL)
		return;
	p++;
	if ((slash = strchr(p, '/')) == NULL)
		return;
	nslen = (size_t)(slash - p);
	TAILQ_FOREACH(ps, &room->pods, entry) {
		ns = pod_sync_ns(ps);
		if (ns != NULL && strlen(ns) == nslen && strncmp(ns, p,
		    nslen) == 0)
			pod_sync_refs_changed(ps);
	}
}

/* The scan at start: every stored pod, as if just stored. */
static int
pod_room_scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	pod_room_put(arg, key, val, len);
	return 0;
}

/* Frees the machines that are done and whose object left the store. */
static void
pod_room_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pod_room	*room = arg;
	struct pod_sync	*ps, *next;

	TAILQ_FOREACH_SAFE(ps, &room->pods, entry, next) {
		/* a deletion confirmed upstream waits for the object to go */
		if (pod_sync_state(ps) != POD_SYNC_DONE ||
		    pod_sync_key(ps) != NULL)
			continue;
		TAILQ_REMOVE(&room->pods, ps, entry);
		pod_sync_free(ps);
	}
}

/* Frees the machines that are done on a later loop turn. */
void
pod_room_reap(struct pod_room *room)
{
	event_active(room->ev_reap, EV_TIMEOUT, 0);
}

/* The health part "pods": how many pods and how the runtime is. */
static void
pod_room_health(struct pod_room *room)
{
	struct pod_sync	*ps;
	char		 buf[128];
	size_t		 n = 0;

	TAILQ_FOREACH(ps, &room->pods, entry)
		if (pod_sync_pod(ps) != NULL)
			n++;
	snprintf(buf, sizeof(buf), "%zu pods, runtime %s", n,
	    room->cri_ready ? "ready" : "not ready");
	health_set("pods", room->cri_ready ? HEALTH_OK : HEALTH_DEGRADED,
	    buf);
}

/* The runtime's connection changed: reconcile everything once ready. */
static void
pod_room_cri_cb(enum cri_state st, void *arg)
{
	struct pod_room	*room = arg;
	struct pod_sync	*ps;
	int		 ready = st == CRI_READY;

	if (ready == room->cri_ready)
		return;
	room->cri_ready = ready;
	pod_room_health(room);
	if (!ready) {
		log_info("pods: runtime %s, waiting for it",
		    cri_state_name(st));
		return;
	}
	log_info("pods: runtime ready, reconciling %s",
	    cri_runtime_version(room->cri) != NULL ?
	    cri_runtime_version(room->cri) : "");
	TAILQ_FOREACH(ps, &room->pods, entry)
		pod_sync_kick(ps);
	pod_room_relist(room);
}

/* Arms the next relist. */
static void
pod_room_relist_arm(struct pod_room *room)
{
	clock_timer_add(room->ev_relist, POD_RELIST_MS);
}

/* qsort order of fingerprint parts. */
static int
pod_room_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fingerprint of uid's objects: sorted "id:state" parts. */
static char *
pod_room_fingerprint(const struct pod_observed *o, const char *uid)
{
	char	**parts, *fp, *tmp;
	size_t	  n = 0, i;

	parts = xreallocarray(NULL, o->nsb + o->nc + 1, sizeof(*parts));
	for (i = 0; i < o->nsb; i++)
		if (strcmp(o->sb[i].pod_uid, uid) == 0)
			xasprintf(&parts[n++], "s%s:%d", o->sb[i].id,
			    o->sb[i].ready);
	for (i = 0; i < o->nc; i++)
		if (strcmp(o->c[i].pod_uid, uid) == 0)
			xasprintf(&parts[n++], "c%s:%d", o->c[i].id,
			    (int)o->c[i].state);
	qsort(parts, n, sizeof(*parts), pod_room_cmp_str);
	fp = xstrdup("");
	for (i = 0; i < n; i++) {
		xasprintf(&tmp, "%s%s;", fp, parts[i]);
		free(fp);
		free(parts[i]);
		fp = tmp;
	}
	free(parts);
	return fp;
}

/*
 * Orphans: a uid with runtime objects and no machine gets one that stops
 * and removes them, named from the runtime's labels.
 */
static void
pod_room_orphan(struct pod_room *room, const char *uid)
{
	struct pod_sync	*ps;
	const char	*ns = NULL, *name = NULL;
	size_t		 i;

	for (i = 0; i < room->relist.nsb; i++) {
		if (strcmp(room->relist.sb[i].pod_uid, uid) == 0) {
			ns = room->relist.sb[i].pod_ns;
			name = room->relist.sb[i].pod_name;
		}
	}
	log_info("pod %s/%s: runtime objects of uid %s belong to no pod, "
	    "removing them", ns != NULL ? ns : "?", name != NULL ? name : "?",
	    uid);
	ps = pod_sync_new(room, NULL, NULL, uid, ns != NULL ? ns : "",
	    name != NULL ? name : uid);
	TAILQ_INSERT_TAIL(&room->pods, ps, entry);
}

/* Both lists are in: fingerprints per uid, kicks, orphans. */
static void
pod_room_relist_done(struct pod_room *room)
{
	struct pod_observed	*o = &room->relist;
	struct pod_sync		*ps;
	const char		*uid;
	char			*fp;
	size_t			 i;

	TAILQ_FOREACH(ps, &room->pods, entry) {
		fp = pod_room_fingerprint(o, pod_sync_uid(ps));
		pod_sync_relisted(ps, fp);
		free(fp);
	}
	for (i = 0; i < o->nsb + o->nc; i++) {
		uid = i < o->nsb ? o->sb[i].pod_uid : o->c[i - o->nsb].pod_uid;
		if (*uid != '\0' && pod_room_find(room, uid) == NULL)
			pod_room_orphan(room, uid);
	}
	if (!room->relisted) {
		room->relisted = 1;
		pod_gc_dirs(room);
	}
}

/* One of the two relist calls finished; the last one concludes. */
static void
pod_room_relist_step(struct pod_room *room)
{
	if (--room->relist_pending > 0)
		return;
	if (!room->relist_failed)
		pod_room_relist_done(room);
	pod_observed_clear(&room->relist);
	pod_room_relist_arm(room);
}

/* ListPodSandbox of the relist. */
static void
pod_room_relist_sb_cb(const struct cri_reply *r, void *arg)
{
	struct pod_room				*room = arg;
	const Runtime__V1__ListPodSandboxResponse *resp;
	size_t					 i;

	room->call_sb = NULL;
	if (r->code != CRI_OK) {
		log_debug("pods: relist sandboxes: %s: %s",
		    cri_code_name(r->code), r->message);
		room->relist_failed = 1;
	} else {
		resp = r->u.list_pod_sandbox;
		for (i = 0; i < resp->n_items; i++)
			pod_cri_add_sandbox(&room->relist, resp->items[i]);
	}
	pod_room_relist_step(room);
}

/* ListContainers of the relist. */
static void
pod_room_relist_ct_cb(const struct cri_reply *r, void *arg)
{
	struct pod_room				*room = arg;
	const Runtime__V1__ListContainersResponse *resp;
	size_t					 i;

	room->call_ct = NULL;
	if (r->code != CRI_OK) {
		log_debug("pods: relist containers: %s: %s",
		    cri_code_name(r->code), r->message);
		room->relist_failed = 1;
	} else {
		resp = r->u.list_containers;
		for (i = 0; i < resp->n_containers; i++)
			pod_cri_add_container(&room->relist,
			    resp->containers[i]);
	}
	pod_room_relist_step(room);
}

/* Lists every sandbox and container this edgesite owns. */
static void
pod_room_relist(struct pod_room *room)
{
	Runtime__V1__ListPodSandboxRequest	 sreq =
	    RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;
	Runtime__V1__ListContainersRequest	 creq =
	    RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;
	Runtime__V1__PodSandboxFilter		 sf =
	    RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
	Runtime__V1__ContainerFilter		 cf =
	    RUNTIME__V1__CONTAINER_FILTER__INIT;
	struct pod_cri_arena			 a = { NULL, 0 };
	struct pod_envs				 owner = { NULL, 0 };

	if (room->relist_pending > 0)
		return;
	evtimer_del(room->ev_relist);
	if (!room->cri_ready)
		return;
	pod_envs_set(&owner, POD_LABEL_OWNER, room->node.state_dir);
	sf.label_selector = pod_cri_map(&a,
	    &runtime__v1__pod_sandbox_filter__label_selector_entry__descriptor,
	    &owner, &sf.n_label_selector);
	cf.label_selector = pod_cri_map(&a,
	    &runtime__v1__container_filter__label_selector_entry__descriptor,
	    &owner, &cf.n_label_selector);
	sreq.filter = &sf;
	creq.filter = &cf;
	room->relist_failed = 0;
	room->relist_pending = 2;
	room->call_sb = cri_list_pod_sandbox(room->cri, &sreq,
	    pod_room_relist_sb_cb, room);
	room->call_ct = cri_list_containers(room->cri, &creq,
	    pod_room_relist_ct_cb, room);
	pod_cri_arena_free(&a);
	pod_envs_clear(&owner);
}

/* The relist timer. */
static void
pod_room_relist_cb(evutil_socket_t fd, short what, void *arg)
{
	pod_room_relist(arg);
}

/* Node facts, the static folder, the subscriptions, then the stored pods. */
struct pod_room *
pod_new(struct event_base *base, const struct conf *conf,
    struct store *store, struct cri *cri, const struct node_ident *ident)
{
	struct pod_room	*room;

	room = xcalloc(1, sizeof(*room));
	room->base = base;
	room->conf = conf;
	room->store = store;
	room->cri = cri;
	room->cluster = ident->cluster;
	TAILQ_INIT(&room->pods);
	pod_room_node(room, ident);
	if ((room->ev_relist = evtimer_new(base, pod_room_relist_cb,
	    room)) == NULL || (room->ev_reap = event_new(base, -1, 0,
	    pod_room_reap_cb, room)) == NULL)
		fatalx("pods: cannot create events");
	log_info("pods: node %s, address %s, %lld MiB, static pods from %s",
	    room->node.node_name, room->node.host_ip,
	    (long long)(room->node.mem_capacity >> 20),
	    *conf->static_pod_dir != '\0' ? conf->static_pod_dir : "nowhere");
	room->st = pod_static_new(room);
	room->sub_cluster = store_subscribe(store, STORE_KEY_PODS,
	    pod_room_change_cb, room);
	room->sub_static = store_subscribe(store, STORE_KEY_STATIC,
	    pod_room_change_cb, room);
	room->sub_cm = store_subscribe(store,
	    STORE_KEY_OBJECTS_OF("configmaps"), pod_room_ref_cb, room);
	room->sub_secret = store_subscribe(store,
	    STORE_KEY_OBJECTS_OF("secrets"), pod_room_ref_cb, room);
	store_scan(store, STORE_KEY_STATIC, pod_room_scan_cb, room);
	store_scan(store, STORE_KEY_PODS, pod_room_scan_cb, room);
	pod_room_health(room);
	cri_watch(cri, pod_room_cri_cb, room);
	if (cri_state(cri) == CRI_READY)
		pod_room_cri_cb(CRI_READY, room);
	return room;
}

/* Stops watching and frees every machine; the pods keep running. */
void
pod_free(struct pod_room *room)
{
	struct pod_sync	*ps;

	if (room == NULL)
		return;
	cri_unwatch(room->cri, pod_room_cri_cb, room);
	store_unsubscribe(room->sub_cluster);
	store_unsubscribe(room->sub_static);
	store_unsubscribe(room->sub_cm);
	store_unsubscribe(room->sub_secret);
	cri_call_cancel(room->call_sb);
	cri_call_cancel(room->call_ct);
	pod_observed_clear(&room->relist);
	pod_static_free(room->st);
	while ((ps = TAILQ_FIRST(&room->pods)) != NULL) {
		TAILQ_REMOVE(&room->pods, ps, entry);
		pod_sync_free(ps);
	}
	event_free(room->ev_relist);
	event_free(room->ev_reap);
	health_remove("pods");
	free(room->node.node_name);
	free(room->node.host_ip);
	free(room->node.resolv);
	free(room);
}

/* SIGUSR1: one line per pod. */
void
pod_dump(struct pod_room *room)
{
	struct pod_sync	*ps;

	if (room == NULL)
		return;
	TAILQ_FOREACH(ps, &room->pods, entry)
		pod_sync_dump(ps);
}
