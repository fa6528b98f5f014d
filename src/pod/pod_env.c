/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's environment, as a kubelet builds it: envFrom (configmaps
 * and secrets, with a prefix, invalid names skipped), then env in order,
 * each value expanding $(VAR) references to the variables before it and
 * each valueFrom read from the pod (fieldRef), the container's resources
 * (resourceFieldRef) or a configmap or secret key, optional references
 * being skipped when absent. Also the downward API values that volumes
 * share with env, and the $(VAR) expansion of command and args. Pure
 * functions: objects come from the caller's lookup, errors come back as
 * the message a kubelet would show (`configmap "x" not found`).
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xmalloc.h"
#include "pod/pod_int.h"

/* A growing string. */
struct pod_env_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

/* Appends n bytes of s. */
static void
pod_env_buf_add(struct pod_env_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* The string built so far, never NULL; the caller owns it. */
static char *
pod_env_buf_take(struct pod_env_buf *b)
{
	if (b->s == NULL)
		return xstrdup("");
	return b->s;
}

/* Frees a list of pairs (kept usable, empty). */
void
pod_envs_clear(struct pod_envs *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].value);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

/* The value of name, or NULL. */
const char *
pod_envs_get(const struct pod_envs *e, const char *name)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].name, name) == 0)
			return e->v[i].value;
	return NULL;
}

/* Sets name (a later definition replaces an earlier one in place). */
void
pod_envs_set(struct pod_envs *e, const char *name, const char *value)
{
	size_t	i;

	for (i = 0; i < e->n; i++) {
		if (strcmp(e->v[i].name, name) == 0) {
			free(e->v[i].value);
			e->v[i].value = xstrdup(value);
			return;
		}
	}
	e->v = xreallocarray(e->v, e->n + 1, sizeof(*e->v));
	e->v[e->n].name = xstrdup(name);
	e->v[e->n].value = xstrdup(value);
	e->n++;
}

/*
 * Expands $(VAR) from vars: $$ is a literal $, an undefined or unclosed
 * reference stays as written. Caller frees.
 */
char *
pod_env_expand(const char *in, const struct pod_envs *vars)
{
	struct pod_env_buf	 b = { NULL, 0, 0 };
	const char		*close, *val;
	char			*name;

	while (*in != '\0') {
		if (in[0] != '$' || in[1] == '\0') {
			pod_env_buf_add(&b, in, 1);
			in++;
			continue;
		}
		if (in[1] == '$') {
			pod_env_buf_add(&b, "$", 1);
			in += 2;
		} else if (in[1] == '(' && (close = strchr(in + 2,
		    ')')) != NULL) {
			name = xstrndup(in + 2, (size_t)(close - in - 2));
			val = pod_envs_get(vars, name);
			if (val != NULL)
				pod_env_buf_add(&b, val, strlen(val));
			else
				pod_env_buf_add(&b, in, (size_t)(close -
				    in + 1));
			free(name);
			in = close + 1;
		} else {
			pod_env_buf_add(&b, in, 2);
			in += 2;
		}
	}
	return pod_env_buf_take(&b);
}

/* A C identifier-like environment name: [-._a-zA-Z][-._a-zA-Z0-9]*. */
int
pod_env_valid_name(const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0' || isdigit((unsigned char)*s))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-._", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

/* Appends s quoted as Go's %q does for printable ASCII. */
static void
pod_env_quote(struct pod_env_buf *b, const char *s)
{
	char	esc[8];

	pod_env_buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			pod_env_buf_add(b, esc, 2);
		} else if (*s == '\n')
			pod_env_buf_add(b, "\\n", 2);
		else if (*s == '\t')
			pod_env_buf_add(b, "\\t", 2);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x",
			    (unsigned char)*s);
			pod_env_buf_add(b, esc, 4);
		} else
			pod_env_buf_add(b, s, 1);
	}
	pod_env_buf_add(b, "\"", 1);
}

/* strcmp for qsort of member pointers by name. */
static int
pod_env_cmp_member(const void *a, const void *b)
{
	const cJSON	*x = *(const cJSON *const *)a;
	const cJSON	*y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* A map as the downward API writes it: key="value" lines, sorted. */
static char *
pod_env_format_map(const cJSON *map)
{
	struct pod_env_buf	  b = { NULL, 0, 0 };
	const cJSON		 *m, **v;
	size_t			  n = 0, i;

	v = xreallocarray(NULL, (size_t)cJSON_GetArraySize(map) + 1,
	    sizeof(*v));
	cJSON_ArrayForEach(m, map)
		if (cJSON_IsString(m) && m->string != NULL)
			v[n++] = m;
	qsort(v, n, sizeof(*v), pod_env_cmp_member);
	for (i = 0; i < n; i++) {
		if (i > 0)
			pod_env_buf_add(&b, "\n", 1);
		pod_env_buf_add(&b, v[i]->string, strlen(v[i]->string));
		pod_env_buf_add(&b, "=", 1);
		pod_env_quote(&b, v[i]->valuestring);
	}
	free(v);
	return pod_env_buf_take(&b);
}

/* "metadata.labels['key']": the key, or NULL. Caller frees. */
static char *
pod_env_subscript(const char *path, const char *prefix)
{
	size_t	plen = strlen(prefix), n = strlen(path);

	if (strncmp(path, prefix, plen) != 0 || n < plen + 4 ||
	    strncmp(path + plen, "['", 2) != 0 ||
	    strcmp(path + n - 2, "']") != 0)
		return NULL;
	return xstrndup(path + plen + 2, n - plen - 4);
}

/* A member of metadata.labels or .annotations by key; "" when absent. */
static char *
pod_env_map_value(const cJSON *pod, const char *map, const char *key)
{
	const cJSON	*v = json_get(pod, "metadata");

	v = cJSON_GetObjectItemCaseSensitive(json_get(v, map), key);
	return xstrdup(cJSON_IsString(v) ? v->valuestring : "");
}

/* A comma list of the pod's IPs. */
static char *
pod_env_join(const struct pod_strv *l, const char *first)
{
	struct pod_env_buf	b = { NULL, 0, 0 };
	size_t			i;

	if (l == NULL || l->n == 0)
		return xstrdup(first != NULL ? first : "");
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			pod_env_buf_add(&b, ",", 1);
		pod_env_buf_add(&b, l->v[i], strlen(l->v[i]));
	}
	return pod_env_buf_take(&b);
}

/* A string member of the pod, or "". */
static char *
pod_env_pod_string(const cJSON *pod, const char *path)
{
	const char	*s = json_get_string(pod, path);

	return xstrdup(s != NULL ? s : "");
}

/*
 * A fieldRef value (metadata.name, metadata.labels['k'], status.podIP,
 * ...) into *out (caller frees); -1 with a message for an unknown path.
 */
int
pod_env_field(const struct pod_ctx *x, const char *path, char **out,
    char *err, size_t errlen)
{
	const cJSON	*pod = x->pod;
	char		*key;

	if ((key = pod_env_subscript(path, "metadata.labels")) != NULL ||
	    (key = pod_env_subscript(path, "metadata.annotations")) != NULL) {
		*out = pod_env_map_value(pod, path[9] == 'l' ? "labels" :
		    "annotations", key);
		free(key);
		return 0;
	}
	if (strcmp(path, "metadata.labels") == 0 ||
	    strcmp(path, "metadata.annotations") == 0)
		*out = pod_env_format_map(json_get(pod, path));
	else if (strcmp(path, "metadata.name") == 0 ||
	    strcmp(path, "metadata.namespace") == 0 ||
	    strcmp(path, "metadata.uid") == 0 ||
	    strcmp(path, "spec.serviceAccountName") == 0)
		*out = pod_env_pod_string(pod, path);
	else if (strcmp(path, "spec.nodeName") == 0)
		*out = xstrdup(json_get_string(pod, path) != NULL ?
		    json_get_string(pod, path) : x->node_name != NULL ?
		    x->node_name : "");
	else if (strcmp(path, "status.hostIP") == 0 ||
	    strcmp(path, "status.hostIPs") == 0)
		*out = xstrdup(x->host_ip != NULL ? x->host_ip : "");
	else if (strcmp(path, "status.podIP") == 0)
		*out = xstrdup(x->pod_ip != NULL ? x->pod_ip : "");
	else if (strcmp(path, "status.podIPs") == 0)
		*out = pod_env_join(x->pod_ips, x->pod_ip);
	else {
		snprintf(err, errlen, "unsupported fieldRef \"%.64s\"", path);
		return -1;
	}
	return 0;
}

/* The container named name, or NULL. */
static const cJSON *
pod_env_container(const cJSON *pod, const char *name)
{
	static const char *const lists[] = { "spec.containers",
	    "spec.initContainers" };
	const cJSON	*c;
	const char	*n;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		cJSON_ArrayForEach(c, json_get(pod, lists[i])) {
			n = json_get_string(c, "name");
			if (n != NULL && strcmp(n, name) == 0)
				return c;
		}
	}
	return NULL;
}

/*
 * A resourceFieldRef value (limits.cpu, requests.memory, ...) of container
 * c divided by divisor and rounded up; an unset limit is the node's
 * allocatable, as for a kubelet. -1 with a message for an unknown one.
 */
int
pod_env_resource(const struct pod_ctx *x, const cJSON *c, const cJSON *ref,
    char **out, char *err, size_t errlen)
{
	const char	*res = json_get_string(ref, "resource"), *cname, *dot;
	const cJSON	*div = json_get(ref, "divisor");
	int64_t		 v, d = 1000, node;

	if ((cname = json_get_string(ref, "containerName")) != NULL &&
	    *cname != '\0' && (c = pod_env_container(x->pod, cname)) == NULL) {
		snprintf(err, errlen, "resourceFieldRef: no container "
		    "\"%.64s\"", cname);
		return -1;
	}
	if (res == NULL || (dot = strchr(res, '.')) == NULL ||
	    (strncmp(res, "limits.", 7) != 0 &&
	    strncmp(res, "requests.", 9) != 0)) {
		snprintf(err, errlen, "unsupported resourceFieldRef "
		    "\"%.64s\"", res != NULL ? res : "");
		return -1;
	}
	if (div != NULL && (pod_spec_quantity(div, &d) == -1 || d <= 0)) {
		snprintf(err, errlen, "resourceFieldRef: bad divisor");
		return -1;
	}
	node = strcmp(dot + 1, "cpu") == 0 ? x->node_cpu_milli :
	    strcmp(dot + 1, "memory") == 0 ? x->node_mem * 1000 : 0;
	v = pod_spec_resource(c, res[0] == 'l' ? "limits" : "requests",
	    dot + 1);
	if (v == 0 && res[0] == 'l')
		v = node;
	else if (v == 0)
		v = pod_spec_resource(c, "limits", dot + 1);
	if (strcmp(dot + 1, "cpu") != 0) {
		/* memory and storage divide whole bytes */
		v = v / 1000 + (v % 1000 != 0);
		d = d / 1000 + (d % 1000 != 0);
	}
	xasprintf(out, "%lld", (long long)(v / d + (v % d != 0)));
	return 0;
}

/* Looks up a configmap or secret of the pod's namespace. */
static cJSON *
pod_env_lookup(const struct pod_ctx *x, const char *resource,
    const char *name)
{
	const char	*ns = json_get_string(x->pod, "metadata.namespace");

	if (x->lookup == NULL || name == NULL)
		return NULL;
	return x->lookup(resource, ns != NULL ? ns : "default", name, x->arg);
}

/*
 * The bytes of key in a configmap's or secret's data (decoded), or NULL
 * when absent; *len excludes the NUL added after them. Caller frees.
 */
char *
pod_env_object_data(const cJSON *obj, int secret, const char *key,
    size_t *len)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(json_get(obj, "data"), key);
	if (!cJSON_IsString(v))
		return NULL;
	if (!secret) {
		*len = strlen(v->valuestring);
		return xstrdup(v->valuestring);
	}
	return pod_spec_base64(v->valuestring, len);
}

/* The value of key as a string (cut at a NUL), or NULL. Caller frees. */
char *
pod_env_object_key(const cJSON *obj, int secret, const char *key)
{
	size_t	len;

	return pod_env_object_data(obj, secret, key, &len);
}

/* envFrom: every key of each source, with its prefix. */
static int
pod_env_from(const struct pod_ctx *x, const cJSON *c, struct pod_envs *e,
    char *err, size_t errlen)
{
	const cJSON	*src, *kv;
	cJSON		*obj;
	const char	*name, *prefix;
	char		*full, *val;
	int		 secret;

	cJSON_ArrayForEach(src, json_get(c, "envFrom")) {
		secret = json_get(src, "secretRef") != NULL;
		name = json_get_string(src, secret ? "secretRef.name" :
		    "configMapRef.name");
		prefix = json_get_string(src, "prefix");
		if ((obj = pod_env_lookup(x, secret ? "secrets" :
		    "configmaps", name)) == NULL) {
			if (json_get_bool(src, secret ? "secretRef.optional" :
			    "configMapRef.optional", 0))
				continue;
			snprintf(err, errlen, "%s \"%.64s\" not found",
			    secret ? "secret" : "configmap",
			    name != NULL ? name : "");
			return -1;
		}
		cJSON_ArrayForEach(kv, json_get(obj, "data")) {
			xasprintf(&full, "%s%s", prefix != NULL ? prefix : "",
			    kv->string);
			val = pod_env_object_key(obj, secret, kv->string);
			if (pod_env_valid_name(full) && val != NULL)
				pod_envs_set(e, full, val);
			free(val);
			free(full);
		}
		cJSON_Delete(obj);
	}
	return 0;
}

/*
 * A configMapKeyRef or secretKeyRef: the value into *out, 1 when an
 * optional reference is absent, -1 with a message otherwise.
 */
static int
pod_env_keyref(const struct pod_ctx *x, const cJSON *ref, int secret,
    char **out, char *err, size_t errlen)
{
	const char	*name = json_get_string(ref, "name");
	const char	*key = json_get_string(ref, "key"), *ns;
	const char	*kind = secret ? "secret" : "configmap";
	cJSON		*obj;
	int		 optional = json_get_bool(ref, "optional", 0);

	if ((obj = pod_env_lookup(x, secret ? "secrets" : "configmaps",
	    name)) == NULL) {
		if (optional)
			return 1;
		snprintf(err, errlen, "%s \"%.64s\" not found", kind,
		    name != NULL ? name : "");
		return -1;
	}
	*out = key != NULL ? pod_env_object_key(obj, secret, key) : NULL;
	cJSON_Delete(obj);
	if (*out != NULL)
		return 0;
	if (optional)
		return 1;
	ns = json_get_string(x->pod, "metadata.namespace");
	snprintf(err, errlen, "couldn't find key %.64s in %s %s/%.64s",
	    key != NULL ? key : "", secret ? "Secret" : "ConfigMap",
	    ns != NULL ? ns : "default", name != NULL ? name : "");
	return -1;
}

/* One env entry's value into *out; 1 to skip it, -1 on error. */
static int
pod_env_value(const struct pod_ctx *x, const cJSON *c, const cJSON *ev,
    const struct pod_envs *e, char **out, char *err, size_t errlen)
{
	const cJSON	*from = json_get(ev, "valueFrom");
	const char	*v;

	if (from == NULL) {
		v = json_get_string(ev, "value");
		*out = pod_env_expand(v != NULL ? v : "", e);
		return 0;
	}
	if (json_get(from, "fieldRef") != NULL) {
		v = json_get_string(from, "fieldRef.fieldPath");
		return pod_env_field(x, v != NULL ? v : "", out, err, errlen);
	}
	if (json_get(from, "resourceFieldRef") != NULL)
		return pod_env_resource(x, c, json_get(from,
		    "resourceFieldRef"), out, err, errlen);
	if (json_get(from, "configMapKeyRef") != NULL)
		return pod_env_keyref(x, json_get(from, "configMapKeyRef"), 0,
		    out, err, errlen);
	if (json_get(from, "secretKeyRef") != NULL)
		return pod_env_keyref(x, json_get(from, "secretKeyRef"), 1,
		    out, err, errlen);
	snprintf(err, errlen, "env: unsupported valueFrom");
	return -1;
}

/*
 * The environment of container c into e (cleared first). -1 with the
 * message of a kubelet's CreateContainerConfigError.
 */
int
pod_env_build(const struct pod_ctx *x, const cJSON *c, struct pod_envs *e,
    char *err, size_t errlen)
{
	const cJSON	*ev;
	const char	*name;
	char		*val;
	int		 rc;

	memset(e, 0, sizeof(*e));
	if (pod_env_from(x, c, e, err, errlen) == -1)
		goto fail;
	cJSON_ArrayForEach(ev, json_get(c, "env")) {
		if ((name = json_get_string(ev, "name")) == NULL)
			continue;
		val = NULL;
		if ((rc = pod_env_value(x, c, ev, e, &val, err,
		    errlen)) == -1)
			goto fail;
		if (rc == 0)
			pod_envs_set(e, name, val);
		free(val);
	}
	return 0;

fail:
	pod_envs_clear(e);
	return -1;
}

/* command or args with $(VAR) expanded; NULL-terminated, caller frees. */
char **
pod_env_expand_list(const cJSON *list, const struct pod_envs *e,
    size_t *n)
{
	const cJSON	*it;
	char		**out;

	*n = 0;
	out = xreallocarray(NULL, (size_t)cJSON_GetArraySize(list) + 1,
	    sizeof(*out));
	cJSON_ArrayForEach(it, list)
		if (cJSON_IsString(it))
			out[(*n)++] = pod_env_expand(it->valuestring, e);
	out[*n] = NULL;
	return out;
}

/* The registry host of an image reference ("docker.io" for Docker Hub). */
static char *
pod_env_registry(const char *image)
{
	size_t	n = strcspn(image, "/");

	if (image[n] == '/' && (memchr(image, '.', n) != NULL ||
	    memchr(image, ':', n) != NULL || (n == 9 &&
	    strncmp(image, "localhost", 9) == 0)))
		return xstrndup(image, n);
	return xstrdup("docker.io");
}

/* A config key as a host: no scheme, no path; Docker Hub's aliases folded. */
static char *
pod_env_key_host(const char *key)
{
	char	*h;

	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	h = xstrndup(key, strcspn(key, "/"));
	if (strcmp(h, "index.docker.io") == 0 ||
	    strcmp(h, "registry-1.docker.io") == 0) {
		free(h);
		h = xstrdup("docker.io");
	}
	return h;
}

/* Fills a from one auths entry ({"username","password","auth"}). */
static int
pod_env_auth_entry(const cJSON *e, const char *server, struct pod_auth *a)
{
	const char	*user = json_get_string(e, "username");
	const char	*pass = json_get_string(e, "password");
	const char	*auth = json_get_string(e, "auth");
	char		*dec, *colon;
	size_t		 len;

	if ((user == NULL || pass == NULL) && auth != NULL &&
	    (dec = pod_spec_base64(auth, &len)) != NULL) {
		if ((colon = strchr(dec, ':')) != NULL) {
			*colon = '\0';
			a->username = xstrdup(dec);
			a->password = xstrdup(colon + 1);
		}
		explicit_bzero(dec, len);
		free(dec);
	} else if (user != NULL && pass != NULL) {
		a->username = xstrdup(user);
		a->password = xstrdup(pass);
	}
	if (a->username == NULL)
		return -1;
	a->server = xstrdup(server);
	return 0;
}

/* Searches one secret's registries for reg. */
static int
pod_env_auth_secret(const cJSON *secret, const char *reg, struct pod_auth *a)
{
	const cJSON	*auths, *e;
	cJSON		*cfg;
	const char	*errstr;
	char		*text, *host;
	size_t		 len;
	int		 json = 1, rc = 1;

	if ((text = pod_env_object_data(secret, 1, ".dockerconfigjson",
	    &len)) == NULL) {
		json = 0;
		if ((text = pod_env_object_data(secret, 1, ".dockercfg",
		    &len)) == NULL)
			return 1;
	}
	cfg = json_parse(text, len, len + 1, &errstr);
	explicit_bzero(text, len);
	free(text);
	auths = json ? json_get(cfg, "auths") : cfg;
	cJSON_ArrayForEach(e, auths) {
		if (e->string == NULL)
			continue;
		host = pod_env_key_host(e->string);
		if (strcmp(host, reg) == 0 && pod_env_auth_entry(e, e->string,
		    a) == 0)
			rc = 0;
		free(host);
		if (rc == 0)
			break;
	}
	cJSON_Delete(cfg);
	return rc;
}

/*
 * Registry credentials for image from the pod's imagePullSecrets, as the
 * runtime's AuthConfig wants them: 0 with a filled (pod_auth_clear wipes
 * and frees it), 1 when no secret has the image's registry.
 */
int
pod_env_pull_auth(const struct pod_ctx *x, const char *image,
    struct pod_auth *a)
{
	const cJSON	*ref;
	cJSON		*secret;
	char		*reg;
	int		 rc = 1;

	memset(a, 0, sizeof(*a));
	reg = pod_env_registry(image);
	cJSON_ArrayForEach(ref, json_get(x->pod, "spec.imagePullSecrets")) {
		secret = pod_env_lookup(x, "secrets", json_get_string(ref,
		    "name"));
		if (secret == NULL)
			continue;
		rc = pod_env_auth_secret(secret, reg, a);
		cJSON_Delete(secret);
		if (rc == 0)
			break;
	}
	free(reg);
	return rc;
}

/* Wipes the credentials and frees them. */
void
pod_auth_clear(struct pod_auth *a)
{
	xfree_secret(a->username);
	xfree_secret(a->password);
	free(a->server);
	memset(a, 0, sizeof(*a));
}
