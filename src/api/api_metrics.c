/*
 * /metrics in the Prometheus text exposition format 0.0.4: build info, the
 * usual process_* families read from /proc, the store's counters, the
 * local endpoint's requests by path label and code, and the lag of the
 * event loop. It owns the request counters and the lag timer: a timer due
 * every 500 ms that records how late it fires, since anything that blocks
 * the loop delays it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "api/api_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "mqtt/mqtt_broker.h"
#include "store/store.h"

#define API_METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"
#define API_LAG_INTERVAL_MS	500
#define API_COUNT_MAX		128	/* (label, code) pairs kept */

static const double api_lag_bounds[] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define API_LAG_NBUCKETS	(sizeof(api_lag_bounds) / sizeof(api_lag_bounds[0]))

struct api_count {
	const char	*label;		/* static: a route path or "other" */
	int		 code;
	uint64_t	 n;
};

struct api_metrics {
	struct api		*api;
	struct event		 lag_ev;
	uint64_t		 lag_due;	/* ns, CLOCK_MONOTONIC */
	uint64_t		 lag_buckets[API_LAG_NBUCKETS];
	uint64_t		 lag_count;
	double			 lag_sum;
	double			 lag_max;
	struct api_count	 counts[API_COUNT_MAX];
	size_t			 ncounts;
};

/* What /proc tells about this process. */
struct api_proc {
	double		cpu_seconds;
	double		start_time;
	uint64_t	vsize;
	uint64_t	rss_bytes;
	long		open_fds;
	long		max_fds;
};

/*
 * The real monotonic time in ns. The lag is a measurement of the real
 * loop, so it reads the system clock, not the cached one logic uses.
 */
static uint64_t
api_metrics_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Arms the lag timer for the next interval from now. */
static void
api_metrics_lag_arm(struct api_metrics *m)
{
	/* libevent measures from its cached time; make it now. */
	event_base_update_cache_time(m->api->base);
	m->lag_due = api_metrics_now_ns() + API_LAG_INTERVAL_MS * 1000000u;
	clock_timer_add(&m->lag_ev, API_LAG_INTERVAL_MS);
}

/* Records how late the timer fired, then arms it again. */
static void
api_metrics_lag_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_metrics	*m = arg;
	uint64_t		 now = api_metrics_now_ns();
	double			 lag = 0;
	size_t			 i;

	(void)fd;
	(void)what;
	if (now > m->lag_due)
		lag = (double)(now - m->lag_due) / 1e9;
	for (i = 0; i < API_LAG_NBUCKETS; i++)
		if (lag <= api_lag_bounds[i])
			m->lag_buckets[i]++;
	m->lag_count++;
	m->lag_sum += lag;
	if (lag > m->lag_max)
		m->lag_max = lag;
	api_metrics_lag_arm(m);
}

/* Creates the counters and starts the lag timer. */
struct api_metrics *
api_metrics_new(struct api *api)
{
	struct api_metrics	*m;

	m = xcalloc(1, sizeof(*m));
	m->api = api;
	evtimer_assign(&m->lag_ev, api->base, api_metrics_lag_cb, m);
	api_metrics_lag_arm(m);
	return m;
}

/* Stops the lag timer and frees; accepts NULL. */
void
api_metrics_free(struct api_metrics *m)
{
	if (m == NULL)
		return;
	evtimer_del(&m->lag_ev);
	free(m);
}

/* Counts one answer under a static label and its code. */
void
api_metrics_count(struct api *api, const char *label, int code)
{
	struct api_metrics	*m = api->metrics;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->ncounts; i++) {
		if (m->counts[i].label == label && m->counts[i].code == code) {
			m->counts[i].n++;
			return;
		}
	}
	/* Labels and codes are our own and few; the table cannot fill. */
	if (m->ncounts == API_COUNT_MAX)
		return;
	m->counts[m->ncounts].label = label;
	m->counts[m->ncounts].code = code;
	m->counts[m->ncounts].n = 1;
	m->ncounts++;
}

/* Writes the # HELP and # TYPE lines of a family. */
static void
api_metrics_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* Writes a label value, escaped as the text format requires. */
static void
api_metrics_label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '\\':
			evbuffer_add(b, "\\\\", 2);
			break;
		case '"':
			evbuffer_add(b, "\\\"", 2);
			break;
		case '\n':
			evbuffer_add(b, "\\n", 2);
			break;
		default:
			evbuffer_add(b, v, 1);
			break;
		}
	}
}

/* One family of a single unlabelled integer sample. */
static void
api_metrics_u64(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	api_metrics_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* One family of a single unlabelled floating-point sample. */
static void
api_metrics_double(struct evbuffer *b, const char *name, const char *type,
    const char *help, double v)
{
	api_metrics_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %.15g\n", name, v);
}

/* Boot time in seconds since the epoch, from /proc/stat; 0 if unknown. */
static double
api_metrics_boot_time(void)
{
	FILE		*fp;
	char		 line[256];
	long long	 btime = 0;

	if ((fp = fopen("/proc/stat", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(fp);
	return (double)btime;
}

/* Parses /proc/self/stat into p; -1 when it cannot be read. */
static int
api_metrics_proc_stat(struct api_proc *p)
{
	FILE			*fp;
	char			 buf[1024], *s;
	unsigned long long	 utime, stime, start, vsize;
	long long		 rss;
	long			 tck = sysconf(_SC_CLK_TCK);
	long			 page = sysconf(_SC_PAGESIZE);

	if ((fp = fopen("/proc/self/stat", "r")) == NULL)
		return -1;
	s = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	/* The command name may hold spaces and parentheses: skip past it. */
	if (s == NULL || (s = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
	    &utime, &stime, &start, &vsize, &rss) != 5)
		return -1;
	if (tck <= 0)
		tck = 100;
	p->cpu_seconds = (double)(utime + stime) / (double)tck;
	p->start_time = api_metrics_boot_time() + (double)start / (double)tck;
	p->vsize = vsize;
	p->rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	return 0;
}

/* Counts open descriptors, less the one reading the directory. */
static long
api_metrics_open_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	long		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

/* The process_* families, as other exporters name them. */
static void
api_metrics_process(struct evbuffer *b)
{
	struct api_proc	p;
	struct rlimit	rl;

	memset(&p, 0, sizeof(p));
	if (api_metrics_proc_stat(&p) == 0) {
		api_metrics_double(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.",
		    p.cpu_seconds);
		api_metrics_u64(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.", p.rss_bytes);
		api_metrics_u64(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.", p.vsize);
		api_metrics_double(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.",
		    p.start_time);
	}
	if ((p.open_fds = api_metrics_open_fds()) >= 0)
		api_metrics_u64(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.", (uint64_t)p.open_fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		api_metrics_u64(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.",
		    (uint64_t)rl.rlim_cur);
}

/* The store's families. */
static void
api_metrics_store(struct evbuffer *b, struct store *store)
{
	struct store_stats	 st;
	const char		*name = "edgesite_store_operations_total";

	store_get_stats(store, &st);
	api_metrics_family(b, name, "counter",
	    "Store operations by kind.");
	evbuffer_add_printf(b, "%s{op=\"get\"} %llu\n", name,
	    (unsigned long long)st.gets);
	evbuffer_add_printf(b, "%s{op=\"put\"} %llu\n", name,
	    (unsigned long long)st.puts);
	evbuffer_add_printf(b, "%s{op=\"delete\"} %llu\n", name,
	    (unsigned long long)st.deletes);
	evbuffer_add_printf(b, "%s{op=\"commit\"} %llu\n", name,
	    (unsigned long long)st.commits);
	evbuffer_add_printf(b, "%s{op=\"scan\"} %llu\n", name,
	    (unsigned long long)st.scans);
	api_metrics_u64(b, "edgesite_store_errors_total", "counter",
	    "LevelDB errors met by the store.", st.errors);
	api_metrics_u64(b, "edgesite_store_damaged_values_total", "counter",
	    "Stored values that failed their check.", st.damaged);
	api_metrics_u64(b, "edgesite_store_size_bytes", "gauge",
	    "Approximate size of the store on disk in bytes.", st.disk_bytes);
	api_metrics_u64(b, "edgesite_store_revision", "gauge",
	    "Local revision of the store.", store_revision(store));
}

/* The embedded MQTT broker's families, when it runs. */
static void
api_metrics_mqtt(struct evbuffer *b)
{
	struct mqtt_broker		*mb;
	struct mqtt_broker_stats	 st;

	if ((mb = mqtt_broker_current()) == NULL)
		return;
	mqtt_broker_get_stats(mb, &st);
	api_metrics_u64(b, "edgesite_mqtt_broker_clients", "gauge",
	    "Clients connected to the embedded MQTT broker.", st.clients);
	api_metrics_u64(b, "edgesite_mqtt_broker_subscriptions", "gauge",
	    "Subscriptions held by the embedded MQTT broker.",
	    st.subscriptions);
	api_metrics_u64(b, "edgesite_mqtt_broker_retained_messages", "gauge",
	    "Retained messages of the embedded MQTT broker.", st.retained);
	api_metrics_u64(b, "edgesite_mqtt_broker_messages_received_total",
	    "counter", "Messages published to the embedded MQTT broker, by "
	    "clients and in-process.", st.msgs_in);
	api_metrics_u64(b, "edgesite_mqtt_broker_messages_sent_total",
	    "counter", "Messages the embedded MQTT broker sent to clients.",
	    st.msgs_out);
	api_metrics_u64(b, "edgesite_mqtt_broker_messages_dropped_total",
	    "counter", "Messages the embedded MQTT broker dropped: queue full, "
	    "client too slow, or denied by the ACL.", st.dropped);
}

/* The local endpoint's own families. */
static void
api_metrics_http(struct evbuffer *b, struct api *api)
{
	struct api_metrics	*m = api->metrics;
	const char		*name = "edgesite_http_requests_total";
	size_t			 i;

	api_metrics_family(b, name, "counter",
	    "Requests answered by the local endpoint by path and code.");
	for (i = 0; i < m->ncounts; i++) {
		evbuffer_add_printf(b, "%s{path=\"", name);
		api_metrics_label(b, m->counts[i].label);
		evbuffer_add_printf(b, "\",code=\"%d\"} %llu\n",
		    m->counts[i].code, (unsigned long long)m->counts[i].n);
	}
	api_metrics_u64(b, "edgesite_http_open_connections", "gauge",
	    "Client connections open to the local endpoint.", api->nconns +
	    api->nreserved);
	api_metrics_u64(b, "edgesite_http_reserved_connections", "gauge",
	    "Client connections on the slots kept for health probes.",
	    api->nreserved);
	name = "edgesite_http_connections_dropped_total";
	api_metrics_family(b, name, "counter", "Client connections of the "
	    "local endpoint closed or refused by reason.");
	for (i = 0; i < API_DROP_MAX; i++)
		evbuffer_add_printf(b, "%s{reason=\"%s\"} %llu\n", name,
		    api_drop_label[i], (unsigned long long)api->drops[i]);
	api_metrics_u64(b, "edgesite_log_library_lines_total", "counter",
	    "Lines libraries printed on stderr, logged at debug level.",
	    log_stderr_lines());
}

/* The event-loop lag histogram and its maximum. */
static void
api_metrics_lag(struct evbuffer *b, struct api_metrics *m)
{
	const char	*name = "edgesite_event_loop_lag_seconds";
	size_t		 i;

	api_metrics_family(b, name, "histogram",
	    "How late a 500 ms timer fires on the event loop in seconds.");
	for (i = 0; i < API_LAG_NBUCKETS; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    api_lag_bounds[i], (unsigned long long)m->lag_buckets[i]);
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)m->lag_count);
	evbuffer_add_printf(b, "%s_sum %.15g\n%s_count %llu\n", name,
	    m->lag_sum, name, (unsigned long long)m->lag_count);
	api_metrics_double(b, "edgesite_event_loop_lag_max_seconds", "gauge",
	    "Largest event-loop lag seen since start in seconds.", m->lag_max);
}

/* GET /metrics */
void
api_metrics_serve(struct api_req *req)
{
	struct api	*api = api_req_api(req);
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	api_metrics_family(b, "edgesite_build_info", "gauge",
	    "A metric with a constant '1' value labeled by version.");
	evbuffer_add_printf(b, "edgesite_build_info{version=\"");
	api_metrics_label(b, version_string());
	evbuffer_add_printf(b, "\"} 1\n");
	api_metrics_process(b);
	if (api->store != NULL)
		api_metrics_store(b, api->store);
	api_metrics_mqtt(b);
	api_metrics_http(b, api);
	api_metrics_lag(b, api->metrics);
	api_reply(req, 200, API_METRICS_CTYPE, b);
	evbuffer_free(b);
}
