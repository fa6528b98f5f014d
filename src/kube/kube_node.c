/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node registration and status, as a kubelet does them under the Node
 * authorizer and NodeRestriction. The node first GETs its Node: a 404
 * registers it (POST) with only the labels a node may set on itself; an
 * existing Node (made beforehand by an admin) is adopted, keeping the
 * transition times of its conditions. Once registered, the machine's facts
 * (conditions, capacity, allocatable, nodeInfo, addresses) are read every
 * check period and sent as a strategic merge patch of nodes/<name>/status
 * when they changed, and at least every node-status-update-frequency
 * (capped at five minutes). A Node deleted upstream is registered again.
 * This file owns struct kube_node: its timer, its one request in flight
 * and the uid the Lease uses as its owner.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "kube/kube_http.h"
#include "kube/kube_int.h"

/* The Kubernetes release whose kubelet API edgesite implements. */
#define KUBE_NODE_KUBE_VERSION	"v1.37.0"
/* Status checks at least this often, to notice changes. */
#define KUBE_NODE_CHECK_MS	10000
/* The heartbeat is never further apart than this. */
#define KUBE_NODE_MAX_PERIOD_MS	(5 * 60 * 1000)
/* Timer precision allowed for when a heartbeat falls due. */
#define KUBE_NODE_SLACK_MS	50
/* Retry delays while registering or after a failed status patch. */
#define KUBE_NODE_RETRY_MIN_MS	500
#define KUBE_NODE_RETRY_MAX_MS	10000
/* Eviction thresholds a kubelet applies by default. */
#define KUBE_NODE_MEM_RESERVED_KIB	(100 * 1024)
#define KUBE_NODE_DISK_MIN_PCT		10
#define KUBE_NODE_PID_MIN_PCT		5
#define KUBE_NODE_MAX_PODS		"110"

enum kube_node_state {
	KUBE_NODE_UNREGISTERED,		/* waiting to GET the Node */
	KUBE_NODE_GETTING,
	KUBE_NODE_CREATING,
	KUBE_NODE_REGISTERED,		/* idle between status checks */
	KUBE_NODE_PATCHING,
};

static const char *const kube_node_state_names[] = {
	"unregistered", "getting", "creating", "registered", "patching",
};

enum kube_node_event {
	KUBE_NODE_EV_TIMER,
	KUBE_NODE_EV_KICK,
	KUBE_NODE_EV_OK,
	KUBE_NODE_EV_NOT_FOUND,
	KUBE_NODE_EV_CONFLICT,
	KUBE_NODE_EV_FAIL,
};

/* The conditions reported, in a kubelet's order; Ready is healthy when True. */
enum kube_node_cond_type {
	KUBE_NODE_MEMORY,
	KUBE_NODE_DISK,
	KUBE_NODE_PID,
	KUBE_NODE_READY,
	KUBE_NODE_NCONDS
};

static const struct {
	const char	*type;
	int		 good;		/* healthy status: 1 True, 0 False */
	const char	*reason_good;
	const char	*msg_good;
	const char	*reason_bad;
	const char	*msg_bad;
} kube_node_cond_table[KUBE_NODE_NCONDS] = {
	{ "MemoryPressure", 0, "KubeletHasSufficientMemory",
	  "kubelet has sufficient memory available",
	  "KubeletHasInsufficientMemory",
	  "kubelet has insufficient memory available" },
	{ "DiskPressure", 0, "KubeletHasNoDiskPressure",
	  "kubelet has no disk pressure",
	  "KubeletHasDiskPressure", "kubelet has disk pressure" },
	{ "PIDPressure", 0, "KubeletHasSufficientPID",
	  "kubelet has sufficient PID available",
	  "KubeletHasInsufficientPID",
	  "kubelet has insufficient PID available" },
	{ "Ready", 1, "KubeletReady", "edgesite is posting ready status",
	  "KubeletNotReady", "edgesite is not ready" },
};

struct kube_node_cond {
	int	 status;	/* 1 True, 0 False, -1 not known yet */
	time_t	 transition;
};

/* What is read from the machine at each check. */
struct kube_node_facts {
	long		 ncpu;
	uint64_t	 mem_total_kib;
	uint64_t	 mem_avail_kib;
	uint64_t	 disk_total_kib;
	uint64_t	 disk_avail_kib;
	uint64_t	 procs;
	uint64_t	 pid_max;
	int		 healthy[KUBE_NODE_NCONDS];
	char		 machine_id[128];
	char		 system_uuid[128];
	char		 boot_id[128];
	char		 kernel[sizeof(((struct utsname *)0)->release)];
	char		 os_image[256];
	char		 arch[32];
	char		 ip[INET6_ADDRSTRLEN];
};

struct kube_node {
	struct kube		*k;
	enum kube_node_state	 state;
	struct event		*timer;
	struct kube_req		*req;
	const struct kube_resp	*resp;		/* during a completion only */
	struct backoff		 bo;
	int			 failed;	/* the last request failed */
	int			 unreachable;	/* ... without an HTTP answer */
	char			*uid;
	char			*runtime_version;
	struct kube_node_cond	 conds[KUBE_NODE_NCONDS];
	int			 labels_sent;
	char			*sending;	/* fingerprint being sent */
	char			*sent;		/* fingerprint last accepted */
	uint64_t		 sent_ms;	/* when it was accepted */
	uint64_t		 period_ms;	/* heartbeat period */
};

static void	kube_node_fsm(struct kube_node *, enum kube_node_event);

/*
 * Moves to a new state, logging the transition: at info, except the
 * routine round of a heartbeat (registered -> patching -> registered),
 * which is traced, and the retries of a run of failures (already warned
 * of once), at debug.
 */
static void
kube_node_enter_state(struct kube_node *n, enum kube_node_state state,
    const char *why)
{
	int	routine;

	routine = !n->failed && ((n->state == KUBE_NODE_REGISTERED &&
	    state == KUBE_NODE_PATCHING) || (n->state == KUBE_NODE_PATCHING &&
	    state == KUBE_NODE_REGISTERED));
	if (n->state != state && routine)
		log_trace(LOG_SUB_KUBE, "node %s: %s -> %s (%s)",
		    n->k->node_name, kube_node_state_names[n->state],
		    kube_node_state_names[state], why);
	else if (n->state != state && n->failed)
		log_debug("node %s: %s -> %s (%s)", n->k->node_name,
		    kube_node_state_names[n->state],
		    kube_node_state_names[state], why);
	else if (n->state != state)
		log_info("node %s: %s -> %s (%s)", n->k->node_name,
		    kube_node_state_names[n->state],
		    kube_node_state_names[state], why);
	n->state = state;
}

/* Arms the timer for ms from now. */
static void
kube_node_arm(struct kube_node *n, uint64_t ms)
{
	clock_timer_add(n->timer, ms);
}

/* Timer: a retry or a status check is due. */
static void
kube_node_timer_cb(int fd, short events, void *arg)
{
	kube_node_fsm(arg, KUBE_NODE_EV_TIMER);
}

/* Completion of any request: turns the answer into an event. */
static void
kube_node_done_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube_node	*n = arg;
	enum kube_node_event	 ev;

	n->req = NULL;
	if (resp->status >= 200 && resp->status < 300)
		ev = KUBE_NODE_EV_OK;
	else if (resp->status == 404)
		ev = KUBE_NODE_EV_NOT_FOUND;
	else if (resp->status == 409)
		ev = KUBE_NODE_EV_CONFLICT;
	else
		ev = KUBE_NODE_EV_FAIL;
	n->resp = resp;
	kube_node_fsm(n, ev);
	n->resp = NULL;
	kube_report_resp(n->k, "node", resp);
}

/* Logs a failed request with the apiserver's answer. */
static void
kube_node_log_failure(struct kube_node *n, const char *what,
    const struct kube_resp *resp, uint64_t delay)
{
	char	esc[256];

	if (resp->status > 0)
		log_warnx("node %s: %s: HTTP %d %s, retrying in %llu ms",
		    n->k->node_name, what, resp->status,
		    log_escape(resp->body, resp->len, esc, sizeof(esc)),
		    (unsigned long long)delay);
	else
		log_warnx("node %s: %s: %s, retrying in %llu ms",
		    n->k->node_name, what, resp->errstr != NULL ?
		    resp->errstr : "transport error",
		    (unsigned long long)delay);
}

/* Waits before the next attempt, obeying Retry-After. */
static void
kube_node_retry(struct kube_node *n, enum kube_node_state state,
    const char *what)
{
	uint64_t	delay;

	/* Retry-After is obeyed up to the back-off's cap. */
	delay = backoff_next(&n->bo);
	if (n->resp != NULL && n->resp->retry_after_ms > delay)
		delay = n->resp->retry_after_ms < n->bo.cap_ms ?
		    n->resp->retry_after_ms : n->bo.cap_ms;
	/* Warn once per run of failures; kube.c tells of the disconnection. */
	if (n->resp != NULL && !n->failed)
		kube_node_log_failure(n, what, n->resp, delay);
	n->failed = 1;
	n->unreachable = n->resp != NULL && n->resp->status < 0;
	kube_node_enter_state(n, state, what);
	kube_node_arm(n, delay);
}

/* Copies s into buf of len bytes, truncating. */
static void
kube_node_copy(char *buf, size_t len, const char *s)
{
	size_t	n;

	n = strlen(s);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* Reads the first line of a small file into buf, trimmed; -1 if unreadable. */
static int
kube_node_read_line(const char *path, char *buf, size_t len)
{
	FILE	*fp;
	size_t	 n;

	buf[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)len, fp) == NULL) {
		fclose(fp);
		buf[0] = '\0';
		return -1;
	}
	fclose(fp);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

/* MemTotal and MemAvailable of /proc/meminfo, in KiB. */
static void
kube_node_read_meminfo(struct kube_node_facts *f)
{
	FILE			*fp;
	char			 line[256];
	unsigned long long	 v;

	if ((fp = fopen("/proc/meminfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			f->mem_total_kib = v;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			f->mem_avail_kib = v;
	}
	fclose(fp);
}

/* PRETTY_NAME of os-release, unquoted; "Linux" when there is none. */
static void
kube_node_read_os_image(char *buf, size_t len)
{
	static const char *const paths[] = { "/etc/os-release",
	    "/usr/lib/os-release" };
	FILE	*fp;
	char	 line[512], *v, *end;
	size_t	 i;

	snprintf(buf, len, "Linux");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if ((fp = fopen(paths[i], "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, "PRETTY_NAME=", 12) != 0)
				continue;
			v = line + 12;
			v[strcspn(v, "\r\n")] = '\0';
			if (*v == '"' || *v == '\'') {
				if ((end = strrchr(v + 1, *v)) != NULL)
					*end = '\0';
				v++;
			}
			if (*v != '\0')
				kube_node_copy(buf, len, v);
			break;
		}
		fclose(fp);
		return;
	}
}

/* Maps uname -m to the architecture names Kubernetes uses (GOARCH). */
static void
kube_node_arch(const char *machine, char *buf, size_t len)
{
	static const struct {
		const char	*uname;
		const char	*goarch;
	} map[] = {
		{ "x86_64", "amd64" }, { "amd64", "amd64" },
		{ "aarch64", "arm64" }, { "arm64", "arm64" },
		{ "armv7l", "arm" }, { "armv6l", "arm" }, { "armv8l", "arm" },
		{ "i386", "386" }, { "i486", "386" }, { "i586", "386" },
		{ "i686", "386" }, { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" }, { "riscv64", "riscv64" },
		{ "mips64", "mips64" }, { "loongarch64", "loong64" },
	};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(machine, map[i].uname) == 0) {
			kube_node_copy(buf, len, map[i].goarch);
			return;
		}
	}
	kube_node_copy(buf, len, machine);
}

/* The interface of the IPv4 default route, from /proc/net/route. */
static int
kube_node_default_ifname(char *buf, size_t len)
{
	FILE		*fp;
	char		 line[256], name[IF_NAMESIZE + 1];
	unsigned int	 dst, mask;
	int		 found = -1;

	if ((fp = fopen("/proc/net/route", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%16s %x %*x %*x %*d %*d %*d %x", name, &dst,
		    &mask) != 3)
			continue;
		if (dst == 0 && mask == 0) {
			kube_node_copy(buf, len, name);
			found = 0;
			break;
		}
	}
	fclose(fp);
	return found;
}

/*
 * The first IPv4 address of interface ifname, or with ifname NULL of any
 * interface that is up and not a loopback.
 */
static int
kube_node_ifaddr(const char *ifname, char *buf, size_t len)
{
	struct ifaddrs		*ifa, *i;
	struct sockaddr_in	*sin;
	int			 found = -1;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL && found == -1; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (ifname != NULL && strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (ifname == NULL && ((i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP)))
			continue;
		sin = (struct sockaddr_in *)(void *)i->ifa_addr;
		if (inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len) !=
		    NULL)
			found = 0;
	}
	freeifaddrs(ifa);
	return found;
}

/*
 * The InternalIP: edged.node-ip, else the first IPv4 of
 * edged.interface-name, else that of the default route's interface, else
 * the first non-loopback IPv4. Empty when there is none.
 */
static void
kube_node_read_ip(const struct conf *c, char *buf, size_t len)
{
	char	ifname[IF_NAMESIZE + 1];

	buf[0] = '\0';
	if (c->node_ip != NULL && *c->node_ip != '\0') {
		kube_node_copy(buf, len, c->node_ip);
		return;
	}
	if (c->interface_name != NULL && *c->interface_name != '\0') {
		if (kube_node_ifaddr(c->interface_name, buf, len) == 0)
			return;
	} else if (kube_node_default_ifname(ifname, sizeof(ifname)) == 0 &&
	    kube_node_ifaddr(ifname, buf, len) == 0)
		return;
	if (kube_node_ifaddr(NULL, buf, len) == -1)
		buf[0] = '\0';
}

/* Processes now and the pid limit, for PIDPressure. */
static void
kube_node_read_pids(struct kube_node_facts *f)
{
	char			 line[128];
	unsigned long long	 running, total;

	if (kube_node_read_line("/proc/loadavg", line, sizeof(line)) == 0 &&
	    sscanf(line, "%*s %*s %*s %llu/%llu", &running, &total) == 2)
		f->procs = total;
	if (kube_node_read_line("/proc/sys/kernel/pid_max", line,
	    sizeof(line)) == 0)
		f->pid_max = strtoull(line, NULL, 10);
}

/*
 * Reads the machine's facts. These are small local files (procfs, sysfs,
 * /etc) and a statvfs of the state directory: nothing that blocks.
 */
static void
kube_node_read_facts(struct kube_node *n, struct kube_node_facts *f)
{
	const struct conf	*c = n->k->conf;
	struct utsname		 u;
	struct statvfs		 sv;

	memset(f, 0, sizeof(*f));
	f->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (f->ncpu < 1)
		f->ncpu = 1;
	kube_node_read_meminfo(f);
	if (c->state_dir != NULL && *c->state_dir != '\0' &&
	    statvfs(c->state_dir, &sv) == 0) {
		f->disk_total_kib = (uint64_t)sv.f_blocks * sv.f_frsize / 1024;
		f->disk_avail_kib = (uint64_t)sv.f_bavail * sv.f_frsize / 1024;
	}
	kube_node_read_pids(f);
	kube_node_read_line("/etc/machine-id", f->machine_id,
	    sizeof(f->machine_id));
	if (kube_node_read_line("/sys/class/dmi/id/product_uuid",
	    f->system_uuid, sizeof(f->system_uuid)) == -1)
		memcpy(f->system_uuid, f->machine_id, sizeof(f->system_uuid));
	kube_node_read_line("/proc/sys/kernel/random/boot_id", f->boot_id,
	    sizeof(f->boot_id));
	if (uname(&u) == 0) {
		kube_node_copy(f->kernel, sizeof(f->kernel), u.release);
		kube_node_arch(u.machine, f->arch, sizeof(f->arch));
	}
	kube_node_read_os_image(f->os_image, sizeof(f->os_image));
	kube_node_read_ip(c, f->ip, sizeof(f->ip));

	f->healthy[KUBE_NODE_READY] = 1;
	f->healthy[KUBE_NODE_MEMORY] = f->mem_total_kib == 0 ||
	    f->mem_avail_kib >= KUBE_NODE_MEM_RESERVED_KIB;
	f->healthy[KUBE_NODE_DISK] = f->disk_total_kib == 0 ||
	    f->disk_avail_kib * 100 >= f->disk_total_kib *
	    KUBE_NODE_DISK_MIN_PCT;
	f->healthy[KUBE_NODE_PID] = f->pid_max == 0 ||
	    (f->pid_max - (f->procs < f->pid_max ? f->procs : f->pid_max)) *
	    100 >= f->pid_max * KUBE_NODE_PID_MIN_PCT;
}

/* kubeletVersion: the Kubernetes release, with ours as build metadata. */
static char *
kube_node_kubelet_version(void)
{
	char	*v, *p;

	xasprintf(&v, "%s+edgesite-%s", KUBE_NODE_KUBE_VERSION,
	    version_string());
	/* Build metadata allows only [0-9A-Za-z.-]. */
	for (p = v + strlen(KUBE_NODE_KUBE_VERSION) + 1; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			*p = '-';
	}
	return v;
}

/* The labels NodeRestriction lets a node set on itself. */
static cJSON *
kube_node_labels(struct kube_node *n, const struct kube_node_facts *f)
{
	cJSON	*l;

	l = cJSON_CreateObject();
	/* A label value is at most 63 characters; a node name may be longer. */
	if (strlen(n->k->node_name) <= 63)
		cJSON_AddStringToObject(l, "kubernetes.io/hostname",
		    n->k->node_name);
	cJSON_AddStringToObject(l, "kubernetes.io/os", "linux");
	cJSON_AddStringToObject(l, "beta.kubernetes.io/os", "linux");
	if (f->arch[0] != '\0') {
		cJSON_AddStringToObject(l, "kubernetes.io/arch", f->arch);
		cJSON_AddStringToObject(l, "beta.kubernetes.io/arch", f->arch);
	}
	return l;
}

/* Adds one "NNNKi" quantity. */
static void
kube_node_add_kib(cJSON *obj, const char *name, uint64_t kib)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%lluKi", (unsigned long long)kib);
	cJSON_AddStringToObject(obj, name, buf);
}

/* capacity (allocatable when alloc): what the scheduler may place here. */
static cJSON *
kube_node_resources(const struct kube_node_facts *f, int alloc)
{
	cJSON		*r;
	char		 buf[32];
	uint64_t	 mem, disk;

	r = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), "%ld", f->ncpu);
	cJSON_AddStringToObject(r, "cpu", buf);
	mem = f->mem_total_kib;
	disk = f->disk_total_kib;
	if (alloc) {
		/* A kubelet holds back its hard eviction thresholds. */
		mem = mem > KUBE_NODE_MEM_RESERVED_KIB ?
		    mem - KUBE_NODE_MEM_RESERVED_KIB : 0;
		disk -= disk * KUBE_NODE_DISK_MIN_PCT / 100;
	}
	if (f->mem_total_kib != 0)
		kube_node_add_kib(r, "memory", mem);
	if (f->disk_total_kib != 0)
		kube_node_add_kib(r, "ephemeral-storage", disk);
	cJSON_AddStringToObject(r, "pods", KUBE_NODE_MAX_PODS);
	return r;
}

/* Formats a wall-clock time as RFC 3339, or "" for 0 (the fingerprint). */
static void
kube_node_time(time_t t, char *buf, size_t len)
{
	if (t == 0)
		buf[0] = '\0';
	else
		clock_rfc3339(t, buf, len);
}

/*
 * The conditions; a transition time changes only with the status.
 * heartbeat 0 leaves the heartbeat empty, for comparing two statuses.
 */
static cJSON *
kube_node_conditions(struct kube_node *n, const struct kube_node_facts *f,
    time_t now, time_t heartbeat)
{
	struct kube_node_cond	*c;
	cJSON			*a, *o;
	char			 ts[64];
	int			 i, status, good;

	a = cJSON_CreateArray();
	for (i = 0; i < KUBE_NODE_NCONDS; i++) {
		c = &n->conds[i];
		good = f->healthy[i];
		status = good ? kube_node_cond_table[i].good :
		    !kube_node_cond_table[i].good;
		if (c->status != status || c->transition == 0) {
			c->status = status;
			c->transition = now;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type",
		    kube_node_cond_table[i].type);
		cJSON_AddStringToObject(o, "status", status ? "True" : "False");
		kube_node_time(heartbeat, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "lastHeartbeatTime", ts);
		kube_node_time(c->transition, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "lastTransitionTime", ts);
		cJSON_AddStringToObject(o, "reason", good ?
		    kube_node_cond_table[i].reason_good :
		    kube_node_cond_table[i].reason_bad);
		cJSON_AddStringToObject(o, "message", good ?
		    kube_node_cond_table[i].msg_good :
		    kube_node_cond_table[i].msg_bad);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* nodeInfo as a kubelet reports it. */
static cJSON *
kube_node_info(struct kube_node *n, const struct kube_node_facts *f)
{
	cJSON	*o;
	char	*v;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "machineID", f->machine_id);
	cJSON_AddStringToObject(o, "systemUUID", f->system_uuid);
	cJSON_AddStringToObject(o, "bootID", f->boot_id);
	cJSON_AddStringToObject(o, "kernelVersion", f->kernel);
	cJSON_AddStringToObject(o, "osImage", f->os_image);
	cJSON_AddStringToObject(o, "containerRuntimeVersion",
	    n->runtime_version != NULL ? n->runtime_version : "");
	v = kube_node_kubelet_version();
	cJSON_AddStringToObject(o, "kubeletVersion", v);
	free(v);
	cJSON_AddStringToObject(o, "operatingSystem", "linux");
	cJSON_AddStringToObject(o, "architecture", f->arch);
	return o;
}

/* addresses: InternalIP when one is known, and Hostname. */
static cJSON *
kube_node_addresses(struct kube_node *n, const struct kube_node_facts *f)
{
	cJSON	*a, *o;

	a = cJSON_CreateArray();
	if (f->ip[0] != '\0') {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "InternalIP");
		cJSON_AddStringToObject(o, "address", f->ip);
		cJSON_AddItemToArray(a, o);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "Hostname");
	cJSON_AddStringToObject(o, "address", n->k->node_name);
	cJSON_AddItemToArray(a, o);
	return a;
}

/* The status patch body; the caller frees. */
static char *
kube_node_status_body(struct kube_node *n, const struct kube_node_facts *f,
    time_t now, time_t heartbeat, int labels)
{
	cJSON	*root, *st, *ep;
	char	*out;

	root = cJSON_CreateObject();
	if (labels)
		cJSON_AddItemToObject(cJSON_AddObjectToObject(root, "metadata"),
		    "labels", kube_node_labels(n, f));
	st = cJSON_AddObjectToObject(root, "status");
	cJSON_AddItemToObject(st, "conditions",
	    kube_node_conditions(n, f, now, heartbeat));
	cJSON_AddItemToObject(st, "capacity", kube_node_resources(f, 0));
	cJSON_AddItemToObject(st, "allocatable", kube_node_resources(f, 1));
	cJSON_AddItemToObject(st, "nodeInfo", kube_node_info(n, f));
	cJSON_AddItemToObject(st, "addresses", kube_node_addresses(n, f));
	/* edgesite serves no kubelet API: port 0, as for an absent one. */
	ep = cJSON_AddObjectToObject(cJSON_AddObjectToObject(st,
	    "daemonEndpoints"), "kubeletEndpoint");
	cJSON_AddNumberToObject(ep, "Port", 0);
	out = json_print(root);
	cJSON_Delete(root);
	return out;
}

/* Starts a request of the node with the completion above. */
static void
kube_node_request(struct kube_node *n, const char *method, const char *path,
    const char *body, const char *content_type)
{
	evtimer_del(n->timer);
	n->req = kube_http_request(n->k->client, method, path, body,
	    content_type, 0, kube_node_done_cb, n);
}

/* GETs the Node to learn whether it exists. */
static void
kube_node_get(struct kube_node *n, const char *why)
{
	char	*path;

	xasprintf(&path, "/api/v1/nodes/%s", n->k->node_name);
	kube_node_request(n, "GET", path, NULL, NULL);
	free(path);
	kube_node_enter_state(n, KUBE_NODE_GETTING, why);
}

/* Registers the Node, with the labels and annotations of a kubelet. */
static void
kube_node_create(struct kube_node *n)
{
	struct kube_node_facts	 f;
	cJSON			*root, *md, *an;
	char			*body;

	kube_node_read_facts(n, &f);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "apiVersion", "v1");
	cJSON_AddStringToObject(root, "kind", "Node");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", n->k->node_name);
	cJSON_AddItemToObject(md, "labels", kube_node_labels(n, &f));
	an = cJSON_AddObjectToObject(md, "annotations");
	cJSON_AddStringToObject(an, "node.alpha.kubernetes.io/ttl", "0");
	cJSON_AddObjectToObject(root, "spec");
	body = json_print(root);
	cJSON_Delete(root);
	kube_node_request(n, "POST", "/api/v1/nodes", body, "application/json");
	free(body);
	n->labels_sent = 1;
	kube_node_enter_state(n, KUBE_NODE_CREATING, "not found, registering");
}

/* Parses "2026-11-26T23:03:20Z" into a time_t; 0 when unparseable. */
static time_t
kube_node_parse_time(const char *s)
{
	struct tm	 tm;
	const char	*end;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return timegm(&tm);
}

/*
 * Takes the uid of the Node in the response, and the status and
 * transition time of each of its conditions we report, so that an adopted
 * Node keeps its history. -1 when the body is not a Node.
 */
static int
kube_node_adopt(struct kube_node *n)
{
	cJSON		*root;
	const cJSON	*conds, *c;
	const char	*uid, *type, *status, *errstr;
	int		 i;

	root = json_parse(n->resp->body, n->resp->len, JSON_MAX_DOCUMENT,
	    &errstr);
	if (root == NULL || (uid = json_get_string(root, "metadata.uid")) ==
	    NULL) {
		log_warnx("node %s: apiserver answer without a uid: %s",
		    n->k->node_name, root == NULL ? errstr : "no metadata.uid");
		cJSON_Delete(root);
		return -1;
	}
	free(n->uid);
	n->uid = xstrdup(uid);
	conds = json_get(root, "status.conditions");
	cJSON_ArrayForEach(c, conds) {
		type = json_get_string(c, "type");
		status = json_get_string(c, "status");
		for (i = 0; i < KUBE_NODE_NCONDS && type != NULL &&
		    status != NULL; i++) {
			if (strcmp(type, kube_node_cond_table[i].type) != 0)
				continue;
			n->conds[i].status = strcmp(status, "True") == 0;
			n->conds[i].transition = kube_node_parse_time(
			    json_get_string(c, "lastTransitionTime"));
		}
	}
	cJSON_Delete(root);
	return 0;
}

/*
 * Time to the next check: KUBE_NODE_CHECK_MS, or sooner when the
 * heartbeat falls due before.
 */
static uint64_t
kube_node_check_ms(struct kube_node *n)
{
	uint64_t	elapsed, left;

	elapsed = clock_mono_ms() - n->sent_ms;
	left = elapsed < n->period_ms ? n->period_ms - elapsed : 0;
	return left < KUBE_NODE_CHECK_MS ? left : KUBE_NODE_CHECK_MS;
}

/*
 * Reads the facts and sends the status when it changed, when the
 * heartbeat is due, or when force is set; else waits for the next check.
 */
static void
kube_node_check(struct kube_node *n, int force, const char *why)
{
	struct kube_node_facts	 f;
	time_t			 now = time(NULL);
	char			*fp, *body, *path;

	kube_node_read_facts(n, &f);
	fp = kube_node_status_body(n, &f, now, 0, 0);
	/* A timer may fire a little early: a heartbeat nearly due is due. */
	if (!force && n->sent != NULL && strcmp(fp, n->sent) == 0 &&
	    clock_mono_ms() - n->sent_ms + KUBE_NODE_SLACK_MS < n->period_ms) {
		free(fp);
		kube_node_enter_state(n, KUBE_NODE_REGISTERED, why);
		kube_node_arm(n, kube_node_check_ms(n));
		return;
	}
	free(n->sending);
	n->sending = fp;
	body = kube_node_status_body(n, &f, now, now, !n->labels_sent);
	xasprintf(&path, "/api/v1/nodes/%s/status", n->k->node_name);
	kube_node_request(n, "PATCH", path, body,
	    "application/strategic-merge-patch+json");
	free(path);
	free(body);
	kube_node_enter_state(n, KUBE_NODE_PATCHING, why);
}

/* A status patch was accepted. */
static void
kube_node_patched(struct kube_node *n)
{
	if (n->failed)
		log_info("node %s: status sent again", n->k->node_name);
	n->failed = 0;
	n->labels_sent = 1;
	free(n->sent);
	n->sent = n->sending;
	n->sending = NULL;
	n->sent_ms = clock_mono_ms();
	backoff_ok(&n->bo);
	kube_node_enter_state(n, KUBE_NODE_REGISTERED, "status sent");
	kube_node_arm(n, kube_node_check_ms(n));
}

/* The Node is there (found or created): adopt it and send the status. */
static void
kube_node_registered(struct kube_node *n, const char *why)
{
	if (kube_node_adopt(n) == -1) {
		kube_node_retry(n, KUBE_NODE_UNREGISTERED, "bad answer");
		return;
	}
	log_info("node %s: %s, uid %s", n->k->node_name, why, n->uid);
	n->failed = 0;
	backoff_ok(&n->bo);
	kube_node_check(n, 1, why);
}

/* The Node disappeared upstream: forget it and register again. */
static void
kube_node_gone(struct kube_node *n)
{
	log_warnx("node %s: deleted upstream, registering again",
	    n->k->node_name);
	free(n->uid);
	n->uid = NULL;
	free(n->sent);
	n->sent = NULL;
	n->labels_sent = 0;
	memset(n->conds, 0, sizeof(n->conds));
	kube_node_get(n, "node deleted");
}

/* The state machine of registration and status. */
static void
kube_node_fsm(struct kube_node *n, enum kube_node_event ev)
{
	/* One request at a time: a timer or kick waits for its answer. */
	if (n->req != NULL && (ev == KUBE_NODE_EV_TIMER ||
	    ev == KUBE_NODE_EV_KICK))
		return;
	/* A kick ends only a wait after a transport failure. */
	if (ev == KUBE_NODE_EV_KICK && (!n->failed || !n->unreachable))
		return;
	switch (n->state) {
	case KUBE_NODE_UNREGISTERED:
		if (ev == KUBE_NODE_EV_TIMER || ev == KUBE_NODE_EV_KICK)
			kube_node_get(n, ev == KUBE_NODE_EV_KICK ? "online" :
			    "timer");
		break;
	case KUBE_NODE_GETTING:
		if (ev == KUBE_NODE_EV_OK)
			kube_node_registered(n, "adopted existing node");
		else if (ev == KUBE_NODE_EV_NOT_FOUND)
			kube_node_create(n);
		else
			kube_node_retry(n, KUBE_NODE_UNREGISTERED, "get node");
		break;
	case KUBE_NODE_CREATING:
		if (ev == KUBE_NODE_EV_OK)
			kube_node_registered(n, "registered");
		else if (ev == KUBE_NODE_EV_CONFLICT)
			kube_node_get(n, "created meanwhile");
		else
			kube_node_retry(n, KUBE_NODE_UNREGISTERED,
			    "register node");
		break;
	case KUBE_NODE_REGISTERED:
		if (ev == KUBE_NODE_EV_TIMER)
			kube_node_check(n, n->failed, "check");
		else if (ev == KUBE_NODE_EV_KICK)
			kube_node_check(n, 1, "online");
		break;
	case KUBE_NODE_PATCHING:
		if (ev == KUBE_NODE_EV_OK)
			kube_node_patched(n);
		else if (ev == KUBE_NODE_EV_NOT_FOUND)
			kube_node_gone(n);
		else
			kube_node_retry(n, KUBE_NODE_REGISTERED,
			    "patch status");
		break;
	}
}

struct kube_node *
kube_node_new(struct kube *k)
{
	struct kube_node	*n;
	uint64_t		 period;
	int			 i;

	n = xcalloc(1, sizeof(*n));
	n->k = k;
	n->state = KUBE_NODE_UNREGISTERED;
	n->timer = evtimer_new(k->base, kube_node_timer_cb, n);
	if (n->timer == NULL)
		fatalx("node: cannot create a timer");
	period = (uint64_t)k->conf->node_status_update_frequency_ms;
	if (period == 0 || period > KUBE_NODE_MAX_PERIOD_MS)
		period = KUBE_NODE_MAX_PERIOD_MS;
	n->period_ms = period;
	backoff_init(&n->bo, KUBE_NODE_RETRY_MIN_MS,
	    period < KUBE_NODE_RETRY_MAX_MS ? period : KUBE_NODE_RETRY_MAX_MS,
	    KUBE_NODE_CHECK_MS);
	for (i = 0; i < KUBE_NODE_NCONDS; i++)
		n->conds[i].status = -1;
	kube_node_arm(n, 0);
	return n;
}

void
kube_node_free(struct kube_node *n)
{
	if (n == NULL)
		return;
	if (n->req != NULL)
		kube_req_cancel(n->req);
	if (n->timer != NULL)
		event_free(n->timer);
	free(n->uid);
	free(n->runtime_version);
	free(n->sending);
	free(n->sent);
	free(n);
}

void
kube_node_kick(struct kube_node *n)
{
	if (n != NULL)
		kube_node_fsm(n, KUBE_NODE_EV_KICK);
}

/* A new runtime version changes the status: check it now. */
void
kube_node_set_runtime_version(struct kube_node *n, const char *v)
{
	if (n == NULL)
		return;
	if (v == NULL && n->runtime_version == NULL)
		return;
	if (v != NULL && n->runtime_version != NULL &&
	    strcmp(v, n->runtime_version) == 0)
		return;
	free(n->runtime_version);
	n->runtime_version = v != NULL ? xstrdup(v) : NULL;
	if (n->state == KUBE_NODE_REGISTERED) {
		evtimer_del(n->timer);
		kube_node_arm(n, 0);
	}
}

/* The uid of the registered Node, or NULL before registration. */
const char *
kube_node_uid(struct kube_node *n)
{
	return n != NULL ? n->uid : NULL;
}
