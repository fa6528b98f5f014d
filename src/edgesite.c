/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edgesite: a standalone Kubernetes node for the edge. main() reads the
 * options and the configuration, opens the store, starts the local API and
 * runs the one event loop; signals stop it (TERM, INT), reload the
 * configuration (HUP) or dump the state to the log (USR1). It hands each
 * room's metrics writer (core/metrics.h) to the local API: no room reads
 * another's counters.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/conf_warn.h"
#include "core/health.h"
#include "core/json.h"
#include "core/log.h"
#include "core/node.h"
#include "core/notify.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "cri/cri.h"
#include "kube/kube.h"
#include "kube/kube_config.h"
#include "mqtt/mqtt.h"
#include "pod/pod.h"
#include "store/store.h"
#include "store/store_repair.h"
#include "twin/twin.h"

struct edgesite {
	struct event_base	*base;
	const char		*conf_path;
	struct conf		*conf;		/* the running configuration */
	struct node_ident	 node;		/* name, cluster mode */
	int			 verbose;	/* -v count */
	struct store		*store;
	struct api		*api;
	struct kube		*kube;		/* NULL when standalone */
	struct cri		*cri;		/* the container runtime */
	struct pod_room		*pods;		/* the pods of the node */
	struct mqtt		*mqtt;		/* the event bus */
	struct twin		*twin;		/* the device twin */
	struct event		*ev_sig[4];
	time_t			 started;
	int			 done;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: edgesite [-hnVv] [-c file] [--repair]\n");
	exit(1);
}

/* Prints every message of a list on stderr (each is "file:line:col: msg"). */
static void
edgesite_print_msgs(const struct conf_msgs *m, const char *prefix)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		fprintf(stderr, "%s%s\n", prefix, m->v[i].text);
}

/* Loads the configuration; on error prints every problem and returns NULL. */
static struct conf *
edgesite_conf_load(const char *path)
{
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c;

	c = conf_load(path, &errs, &warns);
	edgesite_print_msgs(&warns, "warning: ");
	edgesite_print_msgs(&errs, "");
	conf_msgs_clear(&errs);
	conf_msgs_clear(&warns);
	return c;
}

static void
edgesite_warn_cb(const char *msg, void *arg)
{
	(void)arg;
	log_warnx("%s", msg);
}

/* What the operator should know of c, at startup and for -n alike. */
static void
edgesite_warn(const struct conf *c)
{
	conf_warn(c, edgesite_warn_cb, NULL);
	kube_config_warn(c->kube_kubeconfig, c->kube_master, edgesite_warn_cb,
	    NULL);
}

/* Applies the log level and trace switches of c and the -v count. */
static void
edgesite_apply_logging(const struct conf *c, int verbose)
{
	const char	*bad;
	int		 bits = 0, level;

	level = (int)c->log_level + verbose;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_setlevel(level);
	if (c->trace != NULL && log_trace_parse(c->trace, &bits, &bad) == 0)
		log_settrace(bits);
}

/* Width of an option's field in struct conf, by type. */
static size_t
edgesite_field_size(const struct conf_option *o)
{
	switch (o->type) {
	case CONF_T_BOOL:
		return sizeof(int);
	case CONF_T_INT:
	case CONF_T_DURATION:
	case CONF_T_ENUM:
		return sizeof(int64_t);
	case CONF_T_URLLIST:
		return sizeof(char **);
	case CONF_T_STRING:
	case CONF_T_URL:
	case CONF_T_ADDR:
	case CONF_T_PATH:
		return sizeof(char *);
	case CONF_T_IGNORED:
		break;
	}
	return 0;
}

/* Reload diff: logs the change and, for a live option, takes the new value. */
static void
edgesite_reload_diff_cb(const struct conf_option *o, const char *was,
    const char *now, void *arg)
{
	struct conf	**pair = arg;	/* [0] running, [1] new */
	unsigned char	  tmp[sizeof(int64_t)];
	unsigned char	 *a, *b;
	size_t		  sz;

	if (o->flags & CONF_F_RESTART) {
		log_info("reload: %s changed from \"%s\" to \"%s\", needs a "
		    "restart to take effect", o->path, was, now);
		return;
	}
	log_info("reload: %s changed from \"%s\" to \"%s\"", o->path, was,
	    now);
	if ((sz = edgesite_field_size(o)) == 0 || sz > sizeof(tmp))
		return;
	/* Swap, so freeing the new conf frees the old value. */
	a = (unsigned char *)pair[0] + o->off;
	b = (unsigned char *)pair[1] + o->off;
	memcpy(tmp, a, sz);
	memcpy(a, b, sz);
	memcpy(b, tmp, sz);
}

/* SIGHUP: re-reads the file and applies it only if it is valid. */
static void
edgesite_reload(struct edgesite *es)
{
	struct conf_msgs	 errs = { NULL, 0 }, warns = { NULL, 0 };
	struct conf		*c, *pair[2];
	size_t			 i;

	log_info("reload: reading %s", es->conf_path);
	c = conf_load(es->conf_path, &errs, &warns);
	for (i = 0; i < warns.n; i++)
		log_warnx("reload: %s", warns.v[i].text);
	for (i = 0; i < errs.n; i++)
		log_warnx("reload: %s", errs.v[i].text);
	conf_msgs_clear(&errs);
	conf_msgs_clear(&warns);
	if (c == NULL) {
		log_warnx("reload: %s is not valid, keeping the running "
		    "configuration", es->conf_path);
		return;
	}
	pair[0] = es->conf;
	pair[1] = c;
	conf_diff(es->conf, c, edgesite_reload_diff_cb, pair);
	conf_free(c);
	edgesite_apply_logging(es->conf, es->verbose);
	api_set_conf(es->api, es->conf);
	log_info("reload: done");
}

static void
edgesite_dump_health_cb(const char *name, enum health_state st,
    const char *detail, void *arg)
{
	log_info("state: part %s: %s%s%s", name, health_state_name(st),
	    *detail != '\0' ? ": " : "", detail);
}

/* SIGUSR1: one log line per piece of state worth knowing. */
static void
edgesite_dump(struct edgesite *es)
{
	struct store_stats	st;

	store_get_stats(es->store, &st);
	log_info("state: edgesite %s, up %lld s, config %s", version_string(),
	    (long long)(time(NULL) - es->started), es->conf_path);
	log_info("state: store %s: revision %llu, %llu gets, %llu puts, "
	    "%llu deletes, %llu commits, %llu errors, %llu damaged, "
	    "%llu bytes", store_dir(es->store),
	    (unsigned long long)store_revision(es->store),
	    (unsigned long long)st.gets, (unsigned long long)st.puts,
	    (unsigned long long)st.deletes, (unsigned long long)st.commits,
	    (unsigned long long)st.errors, (unsigned long long)st.damaged,
	    (unsigned long long)st.disk_bytes);
	log_info("state: local api on %s", es->conf->api_listen);
	mqtt_dump(es->mqtt);
	pod_dump(es->pods);
	health_foreach(edgesite_dump_health_cb, NULL);
}

/* Starts a graceful stop: no new connections, then the loop ends. */
static void
edgesite_stop(struct edgesite *es, const char *why)
{
	if (es->done)
		return;
	log_info("%s: stopping", why);
	notify_send("STOPPING=1");
	api_close_listeners(es->api);
	mqtt_close_listeners(es->mqtt);
	es->done = 1;
	event_base_loopbreak(es->base);
}

static void
edgesite_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct edgesite	*es = arg;

	switch (sig) {
	case SIGTERM:
		edgesite_stop(es, "SIGTERM");
		break;
	case SIGINT:
		edgesite_stop(es, "SIGINT");
		break;
	case SIGHUP:
		edgesite_reload(es);
		break;
	case SIGUSR1:
		edgesite_dump(es);
		break;
	default:
		break;
	}
}

static void
edgesite_signals(struct edgesite *es)
{
	static const int	sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	size_t			i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		es->ev_sig[i] = evsignal_new(es->base, sigs[i],
		    edgesite_signal_cb, es);
		if (es->ev_sig[i] == NULL || evsignal_add(es->ev_sig[i],
		    NULL) == -1)
			fatalx("cannot install handler for signal %d", sigs[i]);
	}
}

/* cri: once the runtime is up, the Node reports its version. */
static void
edgesite_cri_cb(enum cri_state st, void *arg)
{
	struct edgesite	*es = arg;

	if (st == CRI_READY)
		kube_set_runtime_version(es->kube,
		    cri_runtime_version(es->cri));
}

/* Opens the parts in the order HACKING.md gives; any failure exits 1. */
static void
edgesite_start(struct edgesite *es)
{
	const char	*errstr;

	if (node_ident_init(&es->node, es->conf, &errstr) == -1)
		fatalx("node: %s", errstr);
	if ((es->store = store_open(es->base, es->conf->state_dir,
	    &errstr)) == NULL)
		fatalx("store: %s", errstr);
	health_set("store", HEALTH_OK, es->conf->state_dir);
	if ((es->api = api_new(es->base, es->conf, es->store,
	    &errstr)) == NULL)
		fatalx("local api: %s", errstr);
	health_set("api", HEALTH_OK, es->conf->api_listen);
	if ((es->mqtt = mqtt_new(es->base, es->conf, es->store, &es->node,
	    &errstr)) == NULL)
		fatalx("mqtt: %s", errstr);
	api_metrics_add(es->api, "log", log_metrics, NULL);
	api_metrics_add(es->api, "store", store_metrics, es->store);
	api_metrics_add(es->api, "mqtt", mqtt_metrics, es->mqtt);
	if ((es->cri = cri_new(es->base, es->conf, &errstr)) == NULL)
		fatalx("cri: %s", errstr);
	cri_watch(es->cri, edgesite_cri_cb, es);
	es->kube = kube_new(es->base, es->conf, es->store, &es->node, &errstr);
	if (es->kube == NULL && errstr != NULL)
		fatalx("kube: %s", errstr);
	if (es->kube != NULL)
		api_metrics_add(es->api, "kube", kube_metrics, es->kube);
	es->pods = pod_new(es->base, es->conf, es->store, es->cri, &es->node);
	if ((es->twin = twin_new(es->base, es->conf, es->store, es->mqtt,
	    &es->node, &errstr)) == NULL)
		fatalx("twin: %s", errstr);
	api_metrics_add(es->api, "twin", twin_metrics, es->twin);
	log_info("edgesite %s started: state %s, local api on %s, %s",
	    version_string(), es->conf->state_dir, es->conf->api_listen,
	    es->kube != NULL ? "cluster mode" : "standalone");
}

static void
edgesite_finish(struct edgesite *es)
{
	size_t	i;

	twin_free(es->twin);
	pod_free(es->pods);
	kube_free(es->kube);
	cri_free(es->cri);
	mqtt_free(es->mqtt);
	api_free(es->api);
	store_close(es->store);
	for (i = 0; i < sizeof(es->ev_sig) / sizeof(es->ev_sig[0]); i++)
		if (es->ev_sig[i] != NULL)
			event_free(es->ev_sig[i]);
	health_clear();
	event_base_free(es->base);
	node_ident_clear(&es->node);
	conf_free(es->conf);
	log_info("stopped");
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "repair", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct edgesite			 es;
	int				 ch, check = 0, repair = 0;

	memset(&es, 0, sizeof(es));
	es.conf_path = CONF_DEFAULT_PATH;
	log_init(LOG_LEVEL_INFO, "edgesite");
	json_init();
	while ((ch = getopt_long(argc, argv, "c:hnVv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			es.conf_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'R':
			repair = 1;
			break;
		case 'V':
			version_print(stdout);
			return 0;
		case 'v':
			es.verbose++;
			break;
		case 'h':
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if ((es.conf = edgesite_conf_load(es.conf_path)) == NULL)
		return 1;
	edgesite_warn(es.conf);
	if (check) {
		printf("configuration OK\n");
		conf_free(es.conf);
		return 0;
	}
	if (repair) {
		edgesite_apply_logging(es.conf, es.verbose);
		ch = store_repair(es.conf->state_dir) == 0 ? 0 : 1;
		conf_free(es.conf);
		return ch;
	}
	edgesite_apply_logging(es.conf, es.verbose);
	es.started = time(NULL);
	if ((es.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	edgesite_signals(&es);
	edgesite_start(&es);
	notify_send("READY=1");
	while (!es.done) {
		clock_update();
		if (event_base_loop(es.base, EVLOOP_ONCE) == -1)
			fatalx("event loop failed");
	}
	edgesite_finish(&es);
	return 0;
}
