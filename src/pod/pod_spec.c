/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a pod spec means for the runtime, as pure functions of the pod's
 * JSON: resource quantities, the QoS class and its cgroup parent, a
 * container's Linux resources and OOM score, the DNS configuration, the
 * hostname, image references and pull policies, restart policy, grace
 * periods, a container's spec hash, and the validation that decides
 * whether edgesite can run a pod at all. Each follows what a kubelet
 * computes, so a pod behaves the same under either. Nothing here logs or
 * touches the runtime; pod_sync.c turns the results into CRI requests.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"

#define POD_SPEC_MIN_SHARES	2
#define POD_SPEC_MAX_SHARES	262144
#define POD_SPEC_CPU_PERIOD	100000
#define POD_SPEC_MIN_QUOTA	1000
#define POD_SPEC_OOM_GUARANTEED	(-997)
#define POD_SPEC_OOM_BESTEFFORT	1000
#define POD_SPEC_MAX_NAMESERVERS	3
#define POD_SPEC_MAX_SEARCHES	32
#define POD_SPEC_MAX_SEARCH_LEN	2048
#define POD_SPEC_MAX_HOSTNAME	63

typedef unsigned __int128 pod_u128;

/* Multiplies *v by m; -1 on overflow. */
static int
pod_spec_mul(pod_u128 *v, pod_u128 m)
{
	return __builtin_mul_overflow(*v, m, v) ? -1 : 0;
}

/* The suffix of a quantity as a power of ten and of 1024. */
static int
pod_spec_suffix(const char *s, int *p10, int *p1024)
{
	static const char *const bin[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	static const char	 dec[] = "num kMGTPE";
	static const int	 decp[] = { -9, -6, -3, 0, 3, 6, 9, 12, 15,
	    18 };
	const char		*p;
	char			*end;
	long			 e;
	size_t			 i;

	*p10 = *p1024 = 0;
	if (*s == '\0')
		return 0;
	for (i = 0; i < sizeof(bin) / sizeof(bin[0]); i++) {
		if (strcmp(s, bin[i]) == 0) {
			*p1024 = (int)i + 1;
			return 0;
		}
	}
	if (s[1] == '\0' && *s != ' ' && (p = strchr(dec, *s)) != NULL) {
		*p10 = decp[p - dec];
		return 0;
	}
	if (*s == 'e' || *s == 'E') {
		e = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end != '\0' || e < -30 || e > 30)
			return -1;
		*p10 = (int)e;
		return 0;
	}
	return -1;
}

/*
 * A quantity ("100m", "0.5", "128Mi", "1e3") in thousandths of its unit,
 * rounded up as resource.Quantity.MilliValue() does. Negative quantities
 * are refused.
 */
int
pod_quantity_milli(const char *s, int64_t *milli)
{
	pod_u128	 num = 0, den = 1;
	int		 frac = 0, digits = 0, seen_dot = 0, p10, p1024, p;

	if (*s == '+')
		s++;
	for (; *s != '\0'; s++) {
		if (*s == '.' && !seen_dot) {
			seen_dot = 1;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			break;
		if (++digits > 30 || pod_spec_mul(&num, 10) == -1)
			return -1;
		num += (pod_u128)(*s - '0');
		if (seen_dot)
			frac++;
	}
	if (digits == 0 || pod_spec_suffix(s, &p10, &p1024) == -1)
		return -1;
	while (p1024-- > 0)
		if (pod_spec_mul(&num, 1024) == -1)
			return -1;
	for (p = p10 + 3 - frac; p > 0; p--)
		if (pod_spec_mul(&num, 10) == -1)
			return -1;
	for (; p < 0; p++)
		if (pod_spec_mul(&den, 10) == -1)
			return -1;
	num = (num + den - 1) / den;
	if (num > (pod_u128)INT64_MAX)
		return -1;
	*milli = (int64_t)num;
	return 0;
}

/* A quantity in whole units, rounded up (bytes of memory). */
int
pod_quantity_value(const char *s, int64_t *v)
{
	int64_t	m;

	if (pod_quantity_milli(s, &m) == -1)
		return -1;
	*v = m / 1000 + (m % 1000 != 0);
	return 0;
}

/* A quantity member: a string, or a number as a YAML manifest may give. */
int
pod_spec_quantity(const cJSON *q, int64_t *milli)
{
	char	buf[64];

	if (cJSON_IsString(q))
		return pod_quantity_milli(q->valuestring, milli);
	if (cJSON_IsNumber(q) && q->valuedouble >= 0 &&
	    q->valuedouble < 1e15) {
		snprintf(buf, sizeof(buf), "%.6f", q->valuedouble);
		return pod_quantity_milli(buf, milli);
	}
	return -1;
}

/* requests.<res> or limits.<res> of a container in milli-units, 0 if unset. */
int64_t
pod_spec_resource(const cJSON *c, const char *kind, const char *res)
{
	const cJSON	*r = json_get(json_get(json_get(c, "resources"), kind),
			    res);
	int64_t		 v;

	if (r == NULL || pod_spec_quantity(r, &v) == -1)
		return 0;
	return v;
}

/* Sums one kind of cpu and memory over a container; marks what it set. */
static void
pod_spec_qos_add(const cJSON *c, const char *kind, int64_t sum[2],
    int found[2])
{
	static const char *const res[] = { "cpu", "memory" };
	int64_t			 v;
	int			 i;

	for (i = 0; i < 2; i++) {
		if ((v = pod_spec_resource(c, kind, res[i])) > 0) {
			sum[i] += v;
			found[i] = 1;
		}
	}
}

/* The pod's QoS class, as v1/qos.GetPodQOS computes it. */
enum pod_qos
pod_spec_qos(const cJSON *pod)
{
	static const char *const lists[] = { "initContainers", "containers" };
	const cJSON	*c;
	int64_t		 req[2] = { 0, 0 }, lim[2] = { 0, 0 };
	int		 anyreq[2] = { 0, 0 }, anylim[2] = { 0, 0 };
	int		 creq[2], clim[2], guaranteed = 1, i, l;

	for (l = 0; l < 2; l++) {
		cJSON_ArrayForEach(c, json_get(json_get(pod, "spec"),
		    lists[l])) {
			creq[0] = creq[1] = clim[0] = clim[1] = 0;
			pod_spec_qos_add(c, "requests", req, creq);
			pod_spec_qos_add(c, "limits", lim, clim);
			if (!clim[0] || !clim[1])
				guaranteed = 0;
			for (i = 0; i < 2; i++) {
				anyreq[i] |= creq[i];
				anylim[i] |= clim[i];
			}
		}
	}
	if (!anyreq[0] && !anyreq[1] && !anylim[0] && !anylim[1])
		return POD_QOS_BESTEFFORT;
	for (i = 0; i < 2 && guaranteed; i++)
		if (anyreq[i] && (!anylim[i] || req[i] != lim[i]))
			guaranteed = 0;
	if (guaranteed && anyreq[0] + anyreq[1] == anylim[0] + anylim[1])
		return POD_QOS_GUARANTEED;
	return POD_QOS_BURSTABLE;
}

/* The QoS class as the status names it. */
const char *
pod_qos_name(enum pod_qos q)
{
	switch (q) {
	case POD_QOS_GUARANTEED:
		return "Guaranteed";
	case POD_QOS_BURSTABLE:
		return "Burstable";
	case POD_QOS_BESTEFFORT:
		break;
	}
	return "BestEffort";
}

/*
 * The pod's cgroup parent: /kubepods[/burstable|/besteffort]/pod<uid>
 * with cgroupfs, the matching kubepods-...-pod<uid>.slice with systemd.
 * Caller frees.
 */
char *
pod_spec_cgroup_parent(enum pod_qos q, const char *uid, int systemd)
{
	const char	*cls = q == POD_QOS_BURSTABLE ? "burstable" :
			    q == POD_QOS_BESTEFFORT ? "besteffort" : NULL;
	char		*out, *u, *p;

	if (!systemd) {
		xasprintf(&out, "/kubepods%s%s/pod%s", cls != NULL ? "/" : "",
		    cls != NULL ? cls : "", uid);
		return out;
	}
	/* systemd slice names use '-' as the path separator */
	u = xstrdup(uid);
	for (p = u; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	xasprintf(&out, "kubepods%s%s-pod%s.slice", cls != NULL ? "-" : "",
	    cls != NULL ? cls : "", u);
	free(u);
	return out;
}

/* Kubelet's milliCPUToShares. */
static int64_t
pod_spec_shares(int64_t milli)
{
	int64_t	shares;

	if (milli == 0)
		return POD_SPEC_MIN_SHARES;
	shares = milli * 1024 / 1000;
	if (shares < POD_SPEC_MIN_SHARES)
		return POD_SPEC_MIN_SHARES;
	if (shares > POD_SPEC_MAX_SHARES)
		return POD_SPEC_MAX_SHARES;
	return shares;
}

/* Kubelet's GetContainerOOMScoreAdjust. */
static int64_t
pod_spec_oom(const cJSON *c, enum pod_qos q, int64_t mem_capacity)
{
	int64_t	req, adj;

	if (q == POD_QOS_GUARANTEED)
		return POD_SPEC_OOM_GUARANTEED;
	if (q == POD_QOS_BESTEFFORT || mem_capacity <= 0)
		return POD_SPEC_OOM_BESTEFFORT;
	req = pod_spec_resource(c, "requests", "memory") / 1000;
	adj = req >= mem_capacity ? 0 : 1000 - (1000 * req) / mem_capacity;
	if (adj < 1000 + POD_SPEC_OOM_GUARANTEED)
		return 1000 + POD_SPEC_OOM_GUARANTEED;
	if (adj == POD_SPEC_OOM_BESTEFFORT)
		return adj - 1;
	return adj;
}

/* A container's Linux resources (kubelet's generateLinuxContainerResources). */
void
pod_spec_linux_resources(const cJSON *c, enum pod_qos q, int64_t mem_capacity,
    struct pod_resources *r)
{
	int64_t	cpureq, cpulim, memlim;

	memset(r, 0, sizeof(*r));
	cpureq = pod_spec_resource(c, "requests", "cpu");
	cpulim = pod_spec_resource(c, "limits", "cpu");
	memlim = pod_spec_resource(c, "limits", "memory");
	r->cpu_shares = pod_spec_shares(cpureq == 0 && cpulim != 0 ? cpulim :
	    cpureq);
	if (cpulim != 0) {
		r->cpu_period = POD_SPEC_CPU_PERIOD;
		r->cpu_quota = cpulim * POD_SPEC_CPU_PERIOD / 1000;
		if (r->cpu_quota < POD_SPEC_MIN_QUOTA)
			r->cpu_quota = POD_SPEC_MIN_QUOTA;
	}
	r->memory_limit = memlim / 1000 + (memlim % 1000 != 0);
	r->oom_score_adj = pod_spec_oom(c, q, mem_capacity);
}

/* Adds s to a list unless it is there already; with max, drops beyond it. */
static void
pod_spec_list_add(struct pod_strv *l, const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return;
	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && strncmp(l->v[i], s, len) == 0)
			return;
	l->v = xreallocarray(l->v, l->n + 2, sizeof(*l->v));
	l->v[l->n++] = xstrndup(s, len);
	l->v[l->n] = NULL;
}

/* Adds a string once (a copy). */
void
pod_strv_add(struct pod_strv *l, const char *s)
{
	pod_spec_list_add(l, s, strlen(s));
}

/* Frees a list (kept usable, empty). */
void
pod_strv_clear(struct pod_strv *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Adds each whitespace-separated word of s to a list. */
static void
pod_spec_list_words(struct pod_strv *l, const char *s)
{
	size_t	n;

	for (;;) {
		s += strspn(s, " \t\r");
		if ((n = strcspn(s, " \t\r\n#;")) == 0)
			return;
		pod_spec_list_add(l, s, n);
		s += n;
	}
}

/* A DNS option "name[:value]": replaces one of the same name. */
static void
pod_spec_dns_option(struct pod_strv *l, const char *opt, size_t len)
{
	size_t	i, nlen = strcspn(opt, ":");

	if (nlen > len)
		nlen = len;
	for (i = 0; i < l->n; i++) {
		if (strncmp(l->v[i], opt, nlen) == 0 &&
		    (l->v[i][nlen] == '\0' || l->v[i][nlen] == ':')) {
			free(l->v[i]);
			l->v[i] = xstrndup(opt, len);
			return;
		}
	}
	pod_spec_list_add(l, opt, len);
}

/* nameserver, search, domain and options lines of a resolv.conf. */
static void
pod_spec_resolv(struct pod_dns *d, const char *text)
{
	const char	*line, *p;
	size_t		 n, w;

	for (line = text; line != NULL && *line != '\0'; line = p) {
		n = strcspn(line, "\n");
		p = line[n] == '\n' ? line + n + 1 : NULL;
		if (strncmp(line, "nameserver", 10) == 0 &&
		    isspace((unsigned char)line[10])) {
			line += 10 + strspn(line + 10, " \t");
			pod_spec_list_add(&d->servers, line,
			    strcspn(line, " \t\r\n#;"));
		} else if ((strncmp(line, "search", 6) == 0 &&
		    isspace((unsigned char)line[6])) ||
		    (strncmp(line, "domain", 6) == 0 &&
		    isspace((unsigned char)line[6]))) {
			/* the last search or domain line wins */
			pod_strv_clear(&d->searches);
			pod_spec_list_words(&d->searches, line + 6);
		} else if (strncmp(line, "options", 7) == 0 &&
		    isspace((unsigned char)line[7])) {
			for (line += 7; *line != '\n' && *line != '\0';
			    line += w) {
				line += strspn(line, " \t\r");
				if ((w = strcspn(line, " \t\r\n")) == 0)
					break;
				pod_spec_dns_option(&d->options, line, w);
			}
		}
	}
}

/* The search path of ClusterFirst: the pod's namespace first. */
static void
pod_spec_cluster_searches(struct pod_dns *d, const char *ns,
    const char *domain, const struct pod_strv *host)
{
	char	*s;
	size_t	 i;

	if (domain != NULL && *domain != '\0') {
		xasprintf(&s, "%s.svc.%s", ns, domain);
		pod_strv_add(&d->searches, s);
		free(s);
		xasprintf(&s, "svc.%s", domain);
		pod_strv_add(&d->searches, s);
		free(s);
		pod_strv_add(&d->searches, domain);
	}
	for (i = 0; i < host->n; i++)
		pod_strv_add(&d->searches, host->v[i]);
}

/* Adds spec.dnsConfig: servers and searches appended, options merged. */
static void
pod_spec_dns_config(struct pod_dns *d, const cJSON *cfg)
{
	const cJSON	*it;
	const char	*name, *value;
	char		*opt;

	cJSON_ArrayForEach(it, json_get(cfg, "nameservers"))
		if (cJSON_IsString(it))
			pod_strv_add(&d->servers, it->valuestring);
	cJSON_ArrayForEach(it, json_get(cfg, "searches"))
		if (cJSON_IsString(it))
			pod_strv_add(&d->searches, it->valuestring);
	cJSON_ArrayForEach(it, json_get(cfg, "options")) {
		if ((name = json_get_string(it, "name")) == NULL)
			continue;
		value = json_get_string(it, "value");
		if (value != NULL)
			xasprintf(&opt, "%s:%s", name, value);
		else
			opt = xstrdup(name);
		pod_spec_dns_option(&d->options, opt, strlen(opt));
		free(opt);
	}
}

/* Applies the resolver's limits: 3 servers, 32 searches, 2048 bytes. */
static void
pod_spec_dns_limit(struct pod_dns *d)
{
	size_t	len = 0, i;

	while (d->servers.n > POD_SPEC_MAX_NAMESERVERS) {
		free(d->servers.v[--d->servers.n]);
		d->servers.v[d->servers.n] = NULL;
	}
	for (i = 0; i < d->searches.n; i++) {
		len += strlen(d->searches.v[i]) + 1;
		if (i >= POD_SPEC_MAX_SEARCHES || len > POD_SPEC_MAX_SEARCH_LEN)
			break;
	}
	while (d->searches.n > i) {
		free(d->searches.v[--d->searches.n]);
		d->searches.v[d->searches.n] = NULL;
	}
}

/*
 * The pod's DNS, as kubelet's GetPodDNS: dnsPolicy ClusterFirst (the
 * default) uses cluster_dns (a comma list) and the cluster domain unless
 * the pod is on the host network or no cluster DNS is set, when it falls
 * back to Default, the host's resolv.conf (resolv is its text, may be
 * NULL); None starts empty; spec.dnsConfig is added last. *fallback is set
 * when ClusterFirst had to fall back for want of cluster DNS.
 */
void
pod_spec_dns(const cJSON *pod, const char *cluster_dns, const char *domain,
    const char *resolv, struct pod_dns *d, int *fallback)
{
	struct pod_dns	 host;
	const char	*policy, *ns, *p;
	int		 hostnet;

	memset(d, 0, sizeof(*d));
	memset(&host, 0, sizeof(host));
	*fallback = 0;
	pod_spec_resolv(&host, resolv);
	policy = json_get_string(pod, "spec.dnsPolicy");
	if (policy == NULL || *policy == '\0')
		policy = "ClusterFirst";
	hostnet = json_get_bool(pod, "spec.hostNetwork", 0);
	if (strcmp(policy, "ClusterFirstWithHostNet") == 0)
		policy = "ClusterFirst";
	else if (strcmp(policy, "ClusterFirst") == 0 && hostnet)
		policy = "Default";
	if (strcmp(policy, "ClusterFirst") == 0 && (cluster_dns == NULL ||
	    *cluster_dns == '\0')) {
		*fallback = 1;
		policy = "Default";
	}
	if (strcmp(policy, "ClusterFirst") == 0) {
		for (p = cluster_dns; *p != '\0'; p += strspn(p, ", ")) {
			pod_spec_list_add(&d->servers, p, strcspn(p, ", "));
			p += strcspn(p, ", ");
		}
		if ((ns = json_get_string(pod, "metadata.namespace")) == NULL)
			ns = "default";
		pod_spec_cluster_searches(d, ns, domain, &host.searches);
		pod_strv_add(&d->options, "ndots:5");
	} else if (strcmp(policy, "Default") == 0) {
		d->servers = host.servers;
		d->searches = host.searches;
		d->options = host.options;
		memset(&host, 0, sizeof(host));
	}
	pod_spec_dns_config(d, json_get(pod, "spec.dnsConfig"));
	pod_spec_dns_limit(d);
	pod_dns_clear(&host);
}

/* Frees the lists of a DNS config. */
void
pod_dns_clear(struct pod_dns *d)
{
	pod_strv_clear(&d->servers);
	pod_strv_clear(&d->searches);
	pod_strv_clear(&d->options);
}

/* spec.hostname or the pod name, cut to 63 bytes without a trailing - or . */
char *
pod_spec_hostname(const cJSON *pod)
{
	const char	*h = json_get_string(pod, "spec.hostname");
	size_t		 n;

	if (h == NULL || *h == '\0')
		h = json_get_string(pod, "metadata.name");
	if (h == NULL)
		h = "";
	n = strlen(h);
	if (n > POD_SPEC_MAX_HOSTNAME)
		n = POD_SPEC_MAX_HOSTNAME;
	while (n > 0 && (h[n - 1] == '-' || h[n - 1] == '.'))
		n--;
	return xstrndup(h, n);
}

/* restartPolicy, Always when unset. */
enum pod_restart
pod_spec_restart(const cJSON *pod)
{
	const char	*p = json_get_string(pod, "spec.restartPolicy");

	if (p != NULL && strcmp(p, "Never") == 0)
		return POD_RESTART_NEVER;
	if (p != NULL && strcmp(p, "OnFailure") == 0)
		return POD_RESTART_ONFAILURE;
	return POD_RESTART_ALWAYS;
}

/*
 * The grace period of a termination in seconds: the deletion's own
 * (metadata.deletionGracePeriodSeconds), else the pod's, else 30.
 */
int64_t
pod_spec_grace(const cJSON *pod)
{
	int64_t	g;

	if (json_get_int(pod, "metadata.deletionGracePeriodSeconds", &g) ==
	    0 && g >= 0)
		return g;
	if (json_get_int(pod, "spec.terminationGracePeriodSeconds", &g) ==
	    0 && g >= 0)
		return g;
	return 30;
}

/* The container named name (init containers first), or NULL. */
const cJSON *
pod_spec_container(const cJSON *pod, const char *name, int *init)
{
	static const char *const lists[] = { "spec.initContainers",
	    "spec.containers" };
	const cJSON	*c;
	const char	*n;
	int		 i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < 2; i++) {
		cJSON_ArrayForEach(c, json_get(pod, lists[i])) {
			n = json_get_string(c, "name");
			if (n != NULL && strcmp(n, name) == 0) {
				if (init != NULL)
					*init = i == 0;
				return c;
			}
		}
	}
	return NULL;
}

/* A path component of an image name: lowercase alnum joined by . _ __ -. */
static int
pod_spec_image_component(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (isupper((unsigned char)s[i]))
			return 0;
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) ==
		    NULL)
			return 0;
	}
	return 1;
}

/* A registry host[:port]. */
static int
pod_spec_image_domain(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(".-:[]", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

/* A tag: a word character, then up to 127 of [A-Za-z0-9_.-]. */
static int
pod_spec_image_tag(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

/* A digest: algorithm:hex. */
static int
pod_spec_image_digest(const char *s)
{
	const char	*colon = strchr(s, ':');
	size_t		 i;

	if (colon == NULL || colon == s || strlen(colon + 1) < 32)
		return 0;
	for (i = 1; colon[i] != '\0'; i++)
		if (!isxdigit((unsigned char)colon[i]))
			return 0;
	return 1;
}

/* Whether ref is a valid image reference ([domain/]path[:tag][@digest]). */
int
pod_spec_image_valid(const char *ref)
{
	const char	*at, *p, *slash, *end, *colon;
	size_t		 n;
	int		 first = 1;

	if (ref == NULL || *ref == '\0' || strlen(ref) > 255)
		return 0;
	end = ref + strlen(ref);
	if ((at = strchr(ref, '@')) != NULL) {
		if (!pod_spec_image_digest(at + 1))
			return 0;
		end = at;
	}
	/* a tag is a colon after the last slash */
	slash = memrchr(ref, '/', (size_t)(end - ref));
	colon = memrchr(slash != NULL ? slash : ref, ':', (size_t)(end -
	    (slash != NULL ? slash : ref)));
	if (colon != NULL) {
		if (!pod_spec_image_tag(colon + 1, (size_t)(end - colon - 1)))
			return 0;
		end = colon;
	}
	for (p = ref; p < end; p += n + 1) {
		slash = memchr(p, '/', (size_t)(end - p));
		n = slash != NULL ? (size_t)(slash - p) : (size_t)(end - p);
		/* the first of several components may be a registry */
		if (first && slash != NULL && (memchr(p, '.', n) != NULL ||
		    memchr(p, ':', n) != NULL || (n == 9 &&
		    strncmp(p, "localhost", 9) == 0))) {
			if (!pod_spec_image_domain(p, n))
				return 0;
		} else if (!pod_spec_image_component(p, n))
			return 0;
		first = 0;
		if (slash == NULL)
			break;
	}
	return 1;
}

/* imagePullPolicy, defaulted as the apiserver does from the image's tag. */
enum pod_pull
pod_spec_pull_policy(const cJSON *c)
{
	const char	*p = json_get_string(c, "imagePullPolicy");
	const char	*img = json_get_string(c, "image"), *slash, *colon;

	if (p != NULL && strcmp(p, "Always") == 0)
		return POD_PULL_ALWAYS;
	if (p != NULL && strcmp(p, "Never") == 0)
		return POD_PULL_NEVER;
	if (p != NULL && strcmp(p, "IfNotPresent") == 0)
		return POD_PULL_IFNOTPRESENT;
	if (img == NULL || strchr(img, '@') != NULL)
		return POD_PULL_IFNOTPRESENT;
	slash = strrchr(img, '/');
	colon = strrchr(slash != NULL ? slash : img, ':');
	if (colon == NULL || strcmp(colon, ":latest") == 0)
		return POD_PULL_ALWAYS;
	return POD_PULL_IFNOTPRESENT;
}

/* 64-bit FNV-1a, as 16 hex digits into out[17]. */
void
pod_spec_fnv(const void *buf, size_t len, char out[17])
{
	const unsigned char	*p = buf;
	uint64_t		 h = 14695981039346656037ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The hash of a container's spec: a change restarts the container. */
void
pod_spec_container_hash(const cJSON *c, char out[17])
{
	char	*text = json_print(c);

	pod_spec_fnv(text, strlen(text), out);
	free(text);
}

/* Decodes standard base64 (padding optional); NULL when malformed. */
char *
pod_spec_base64(const char *in, size_t *outlen)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;
	unsigned char		*out;
	uint32_t		 acc = 0;
	size_t			 n = 0, len = strlen(in), bits = 0;

	out = xmalloc(len / 4 * 3 + 3);
	for (; *in != '\0' && *in != '='; in++) {
		if (*in == '\n' || *in == '\r')
			continue;
		if ((p = strchr(tab, *in)) == NULL)
			goto bad;
		acc = (acc << 6) | (uint32_t)(p - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	for (; *in == '='; in++)
		;
	if (*in != '\0' || bits >= 6)
		goto bad;
	out[n] = '\0';
	*outlen = n;
	return (char *)out;

bad:
	free(out);
	return NULL;
}

/* Whether name is one of the volumes of the pod. */
static int
pod_spec_has_volume(const cJSON *spec, const char *name)
{
	const cJSON	*v;
	const char	*n;

	cJSON_ArrayForEach(v, json_get(spec, "volumes")) {
		n = json_get_string(v, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

/* Checks one container; names must be unique across both lists. */
static int
pod_spec_check_container(const cJSON *spec, const cJSON *c,
    struct pod_strv *names, char *err, size_t errlen)
{
	const cJSON	*m, *p;
	const char	*name = json_get_string(c, "name"), *v;
	int64_t		 port;
	size_t		 i;

	if (!dnsname_label(name)) {
		snprintf(err, errlen, "container name \"%.64s\" is not a DNS "
		    "label", name != NULL ? name : "");
		return -1;
	}
	for (i = 0; i < names->n; i++) {
		if (strcmp(names->v[i], name) == 0) {
			snprintf(err, errlen, "container name \"%s\" is used "
			    "twice", name);
			return -1;
		}
	}
	pod_strv_add(names, name);
	if (json_get_string(c, "image") == NULL) {
		snprintf(err, errlen, "container \"%s\" has no image", name);
		return -1;
	}
	cJSON_ArrayForEach(m, json_get(c, "volumeMounts")) {
		v = json_get_string(m, "name");
		if (v == NULL || !pod_spec_has_volume(spec, v) ||
		    json_get_string(m, "mountPath") == NULL ||
		    json_get_string(m, "mountPath")[0] != '/') {
			snprintf(err, errlen, "container \"%s\": volume mount "
			    "\"%.64s\" names no volume or has no absolute "
			    "mountPath", name, v != NULL ? v : "");
			return -1;
		}
	}
	cJSON_ArrayForEach(p, json_get(c, "ports")) {
		if (json_get_int(p, "containerPort", &port) == -1 ||
		    port < 1 || port > 65535 || (json_get(p, "hostPort") !=
		    NULL && (json_get_int(p, "hostPort", &port) == -1 ||
		    port < 0 || port > 65535))) {
			snprintf(err, errlen, "container \"%s\": bad port",
			    name);
			return -1;
		}
	}
	return 0;
}

/*
 * Whether edgesite can run the pod: what the apiserver's validation would
 * have refused (a static pod never went through it). -1 with a message.
 */
int
pod_spec_validate(const cJSON *pod, char *err, size_t errlen)
{
	static const char *const lists[] = { "initContainers", "containers" };
	struct pod_strv	 names = { NULL, 0 };
	const cJSON	*spec = json_get(pod, "spec"), *c, *v;
	const char	*rp;
	int		 l, rc = -1;

	if (!cJSON_IsObject(spec)) {
		snprintf(err, errlen, "the pod has no spec");
		return -1;
	}
	if (cJSON_GetArraySize(json_get(spec, "containers")) == 0) {
		snprintf(err, errlen, "the pod has no containers");
		return -1;
	}
	rp = json_get_string(spec, "restartPolicy");
	if (rp != NULL && strcmp(rp, "Always") != 0 &&
	    strcmp(rp, "OnFailure") != 0 && strcmp(rp, "Never") != 0) {
		snprintf(err, errlen, "unknown restartPolicy \"%.32s\"", rp);
		return -1;
	}
	cJSON_ArrayForEach(v, json_get(spec, "volumes")) {
		if (!dnsname_label(json_get_string(v, "name"))) {
			snprintf(err, errlen, "a volume name is not a DNS "
			    "label");
			return -1;
		}
	}
	for (l = 0; l < 2; l++) {
		cJSON_ArrayForEach(c, json_get(spec, lists[l]))
			if (pod_spec_check_container(spec, c, &names, err,
			    errlen) == -1)
				goto out;
	}
	rc = 0;
out:
	pod_strv_clear(&names);
	return rc;
}
