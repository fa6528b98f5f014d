/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /metrics in the Prometheus text exposition format 0.0.4, written through
 * core/metrics.h: build info, the usual process_* families read from
 * /proc, then each room's families in the order main() registered their
 * writers with api_metrics_add (store, mqtt, ...), then the local
 * endpoint's requests by path label and code and the lag of the event
 * loop. It reads no other room's counters itself. It owns the list of
 * writers, the request counters and the lag timer: a timer due every
 * 500 ms that records how late it fires, since anything that blocks the
 * loop delays it.
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

#include "api/api.h"
#include "api/api_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/version.h"
#include "core/xmalloc.h"

#define API_METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"
#define API_LAG_INTERVAL_MS	500
#define API_COUNT_MAX		128	/* (label, code) pairs kept */
#define API_METRICS_LOG_MS	60000	/* between two logs of drops */

static const double api_lag_bounds[] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define API_LAG_NBUCKETS	(sizeof(api_lag_bounds) / sizeof(api_lag_bounds[0]))

struct api_count {
	const char	*label;		/* static: a route path or "other" */
	int		 code;
	uint64_t	 n;
};

/* A room's writer, as main() registered it. */
struct api_metrics_room {
	const char	*room;		/* static */
	metrics_cb	 cb;
	void		*arg;
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
	struct api_metrics_room	*rooms;		/* in the order added */
	size_t			 nrooms;
	uint64_t		 dropped;	/* left out by the writer */
	struct ratelimit	 drop_rl;	/* logs of left-out samples */
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
	m->drop_rl.period_ms = API_METRICS_LOG_MS;
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
	free(m->rooms);
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

/* One family of a single unlabelled floating-point sample. */
static void
api_metrics_double(struct metrics_out *out, const char *name,
    enum metrics_type type, const char *help, double v)
{
	if (metrics_family(out, name, type, help) == 0)
		metrics_double(out, name, NULL, v);
}

/* The process_* families, as other exporters name them. */
static void
api_metrics_process(struct metrics_out *out)
{
	struct api_proc	p;
	struct rlimit	rl;

	memset(&p, 0, sizeof(p));
	if (api_metrics_proc_stat(&p) == 0) {
		api_metrics_double(out, "process_cpu_seconds_total",
		    METRICS_COUNTER,
		    "Total user and system CPU time spent in seconds.",
		    p.cpu_seconds);
		metrics_gauge(out, "process_resident_memory_bytes",
		    "Resident memory size in bytes.", p.rss_bytes);
		metrics_gauge(out, "process_virtual_memory_bytes",
		    "Virtual memory size in bytes.", p.vsize);
		api_metrics_double(out, "process_start_time_seconds",
		    METRICS_GAUGE,
		    "Start time of the process since unix epoch in seconds.",
		    p.start_time);
	}
	if ((p.open_fds = api_metrics_open_fds()) >= 0)
		metrics_gauge(out, "process_open_fds",
		    "Number of open file descriptors.", (uint64_t)p.open_fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metrics_gauge(out, "process_max_fds",
		    "Maximum number of open file descriptors.",
		    (uint64_t)rl.rlim_cur);
}

/* The connections the endpoint closed or refused, by reason. */
static void
api_metrics_drops(struct metrics_out *out, struct api *api)
{
	const char	*name = "edgesite_http_connections_dropped_total";
	const char	*labels[3] = { "reason", NULL, NULL };
	size_t		 i;

	metrics_family(out, name, METRICS_COUNTER, "Client connections of "
	    "the local endpoint closed or refused by reason.");
	for (i = 0; i < API_DROP_MAX; i++) {
		labels[1] = api_drop_label[i];
		metrics_u64(out, name, labels, api->drops[i]);
	}
}

/* The local endpoint's own families. */
static void
api_metrics_http(struct metrics_out *out, struct api *api)
{
	struct api_metrics	*m = api->metrics;
	const char		*name = "edgesite_http_requests_total";
	const char		*labels[5] = { "path", NULL, "code" };
	char			 code[16];
	size_t			 i;

	metrics_family(out, name, METRICS_COUNTER,
	    "Requests answered by the local endpoint by path and code.");
	labels[3] = code;
	for (i = 0; i < m->ncounts; i++) {
		labels[1] = m->counts[i].label;
		snprintf(code, sizeof(code), "%d", m->counts[i].code);
		metrics_u64(out, name, labels, m->counts[i].n);
	}
	metrics_gauge(out, "edgesite_http_open_connections",
	    "Client connections open to the local endpoint.", api->nconns +
	    api->nreserved);
	metrics_gauge(out, "edgesite_http_reserved_connections",
	    "Client connections on the slots kept for health probes.",
	    api->nreserved);
	api_metrics_drops(out, api);
}

/* Streams: lists written as read, clients cut off for not reading. */
static void
api_metrics_streams(struct metrics_out *out, struct api *api)
{
	const char	*name = "edgesite_http_clients_cut_total";

	metrics_gauge(out, "edgesite_http_open_streams",
	    "Watches and lists the local endpoint is streaming.",
	    api->nstreams);
	metrics_counter(out, "edgesite_http_lists_streamed_total",
	    "Lists too long to build ahead, written as their client read.",
	    api->streamed_lists);
	metrics_counter(out, "edgesite_http_lists_cut_total",
	    "Streamed lists cut short by a store error.", api->lists_cut);
	if (metrics_family(out, name, METRICS_COUNTER, "Clients of the local "
	    "endpoint disconnected for reading too slowly: nothing read for "
	    "60 s (stalled), live changes over watch-buffer (overflow).") ==
	    -1)
		return;
	metrics_u64(out, name, (const char *[]){ "reason", "stalled", NULL },
	    api->stream_stalls);
	metrics_u64(out, name, (const char *[]){ "reason", "overflow", NULL },
	    api->stream_overflows);
}

/* The event-loop lag histogram and its maximum. */
static void
api_metrics_lag(struct metrics_out *out, struct api_metrics *m)
{
	metrics_family(out, "edgesite_event_loop_lag_seconds",
	    METRICS_HISTOGRAM,
	    "How late a 500 ms timer fires on the event loop in seconds.");
	metrics_histogram(out, api_lag_bounds, m->lag_buckets,
	    API_LAG_NBUCKETS, m->lag_count, m->lag_sum);
	api_metrics_double(out, "edgesite_event_loop_lag_max_seconds",
	    METRICS_GAUGE,
	    "Largest event-loop lag seen since start in seconds.", m->lag_max);
}

/* What the writer left out: counted for good, logged once a minute. */
static void
api_metrics_dropped(struct metrics_out *out, struct api_metrics *m)
{
	uint64_t	n = metrics_out_dropped(out);

	if (n > 0 && ratelimit_pass(&m->drop_rl, clock_mono_ms(), NULL)) {
		log_warnx("metrics: %llu samples left out of /metrics (%s), "
		    "serving the rest", (unsigned long long)n,
		    metrics_out_why(out));
	}
	m->dropped += n;
	metrics_counter(out, "edgesite_metrics_dropped_total",
	    "Families and samples a room wrote wrong, left out of /metrics.",
	    m->dropped);
}

/* Registers a room's writer; called from main() after api_new. */
void
api_metrics_add(struct api *api, const char *room, metrics_cb cb, void *arg)
{
	struct api_metrics	*m = api->metrics;

	m->rooms = xreallocarray(m->rooms, m->nrooms + 1, sizeof(*m->rooms));
	m->rooms[m->nrooms].room = room;
	m->rooms[m->nrooms].cb = cb;
	m->rooms[m->nrooms].arg = arg;
	m->nrooms++;
}

/* GET /metrics */
void
api_metrics_serve(struct api_req *req)
{
	struct api		*api = api_req_api(req);
	struct api_metrics	*m = api->metrics;
	struct metrics_out	*out;
	struct evbuffer		*b;
	size_t			 i;

	if ((b = evbuffer_new()) == NULL)
		fatalx("api: out of memory");
	out = metrics_out_new(b);
	metrics_out_room(out, "api");
	metrics_family(out, "edgesite_build_info", METRICS_GAUGE,
	    "A metric with a constant '1' value labeled by version.");
	metrics_u64(out, "edgesite_build_info",
	    (const char *[]){ "version", version_string(), NULL }, 1);
	api_metrics_process(out);
	for (i = 0; i < m->nrooms; i++) {
		metrics_out_room(out, m->rooms[i].room);
		m->rooms[i].cb(out, m->rooms[i].arg);
	}
	metrics_out_room(out, "api");
	api_metrics_http(out, api);
	api_metrics_streams(out, api);
	api_metrics_lag(out, m);
	api_metrics_dropped(out, m);
	metrics_out_free(out);
	api_reply(req, 200, API_METRICS_CTYPE, b);
	evbuffer_free(b);
}
