/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_fetch: one apiserver request through the kube client, for the
 * integration tests. Prints "status N" (and "retry_after_ms N" when the
 * server asked for a pause) then the body, or for a stream (-w) each line
 * as it arrives ("skipped N" for one over the line limit). Exit 0 on transport success, 1 on a transport error
 * (printed as "error NAME: text" on stderr), 2 on bad usage.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "kube/kube_config.h"
#include "kube/kube_http.h"

#define KUBE_FETCH_MAX_SERVERS	8

struct kube_fetch {
	struct event_base	*base;
	struct kube_client	*client;
	struct kube_req		*req;
	const char		*method;
	const char		*path;
	const char		*body;
	const char		*ctype;
	uint64_t		 idle_ms;
	int			 stream;
	long			 max_lines;
	long			 lines;
	int			 repeat;
	int			 retries;
	int			 printed;
	int			 done;
	int			 rv;
};

static void	kube_fetch_start(struct kube_fetch *);

static void
usage(void)
{
	fprintf(stderr, "usage: kube_fetch [-v] [-k kubeconfig] [-s server] "
	    "[-X method] [-d body] [-T content-type]\n"
	    "\t[-t idle_ms] [-q qps] [-b burst] [-r repeat] [-w [-n lines]] "
	    "path\n");
	exit(2);
}

/* The name of a transport error. */
static const char *
kube_fetch_errname(int status)
{
	switch (status) {
	case KUBE_HTTP_ECONNECT:
		return "ECONNECT";
	case KUBE_HTTP_EIO:
		return "EIO";
	case KUBE_HTTP_ETIMEOUT:
		return "ETIMEOUT";
	case KUBE_HTTP_EPROTO:
		return "EPROTO";
	case KUBE_HTTP_ECANCEL:
		return "ECANCEL";
	}
	return "E?";
}

/* Completion: print, then retry, repeat or stop. */
static void
kube_fetch_done_cb(struct kube_req *req, const struct kube_resp *resp,
    void *arg)
{
	struct kube_fetch	*kf = arg;

	kf->req = NULL;
	if (resp->status < 0) {
		fprintf(stderr, "error %s: %s\n",
		    kube_fetch_errname(resp->status),
		    resp->errstr != NULL ? resp->errstr : "");
		if (resp->status == KUBE_HTTP_ECONNECT && kf->retries-- > 0) {
			fprintf(stderr, "retrying on %s\n",
			    kube_client_server(kf->client));
			kube_fetch_start(kf);
			return;
		}
		printf("status %d\n", resp->status);
		kf->rv = 1;
		kf->done = 1;
		return;
	}
	if (!kf->printed) {
		printf("status %d\n", resp->status);
		if (resp->retry_after_ms != 0)
			printf("retry_after_ms %llu\n",
			    (unsigned long long)resp->retry_after_ms);
	}
	fwrite(resp->body, 1, resp->len, stdout);
	if (kf->stream)
		printf("end\n");
	fflush(stdout);
	kf->printed = 0;
	if (--kf->repeat > 0) {
		kube_fetch_start(kf);
		return;
	}
	kf->done = 1;
}

/* A stream line: print it (or its size when dropped); cancel after -n. */
static void
kube_fetch_line_cb(struct kube_req *req, const char *line, size_t len,
    void *arg)
{
	struct kube_fetch	*kf = arg;

	if (!kf->printed) {
		printf("status 200\n");
		kf->printed = 1;
	}
	if (line == NULL)
		printf("skipped %zu\n", len);
	else
		printf("%.*s\n", (int)len, line);
	fflush(stdout);
	if (kf->max_lines > 0 && ++kf->lines >= kf->max_lines) {
		/* Cancelling from inside the line callback is allowed. */
		kube_req_cancel(req);
		kf->req = NULL;
		kf->done = 1;
	}
}

/* Starts the request (or the stream). */
static void
kube_fetch_start(struct kube_fetch *kf)
{
	if (kf->stream)
		kf->req = kube_http_stream(kf->client, kf->path, kf->idle_ms,
		    kube_fetch_line_cb, kube_fetch_done_cb, kf);
	else
		kf->req = kube_http_request(kf->client, kf->method, kf->path,
		    kf->body, kf->ctype, kf->idle_ms, kube_fetch_done_cb, kf);
}

int
main(int argc, char **argv)
{
	struct kube_fetch	 kf;
	struct kube_auth	 auth;
	const char		*kubeconfig = NULL, *errstr;
	char			*servers[KUBE_FETCH_MAX_SERVERS + 1];
	int			 ch, ns = 0, qps = 0, burst = 0, verbose = 0;

	memset(&kf, 0, sizeof(kf));
	kf.method = "GET";
	kf.repeat = 1;
	while ((ch = getopt(argc, argv, "b:d:k:n:q:r:s:T:t:vwX:")) != -1) {
		switch (ch) {
		case 'b':
			burst = atoi(optarg);
			break;
		case 'd':
			kf.body = optarg;
			break;
		case 'k':
			kubeconfig = optarg;
			break;
		case 'n':
			kf.max_lines = atol(optarg);
			break;
		case 'q':
			qps = atoi(optarg);
			break;
		case 'r':
			kf.repeat = atoi(optarg);
			break;
		case 's':
			if (ns == KUBE_FETCH_MAX_SERVERS)
				usage();
			servers[ns++] = optarg;
			break;
		case 'T':
			kf.ctype = optarg;
			break;
		case 't':
			kf.idle_ms = strtoull(optarg, NULL, 10);
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			kf.stream = 1;
			break;
		case 'X':
			kf.method = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || kf.repeat < 1)
		usage();
	kf.path = argv[optind];
	servers[ns] = NULL;
	if (kf.body != NULL && kf.ctype == NULL)
		kf.ctype = "application/json";

	log_init(verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "kube_fetch");
	json_init();
	if (verbose > 1)
		log_settrace(LOG_SUB_KUBE);
	signal(SIGPIPE, SIG_IGN);
	if (kube_config_load(kubeconfig, servers, &auth, &errstr) == -1) {
		fprintf(stderr, "kube_fetch: %s\n", errstr);
		return 2;
	}
	kf.base = event_base_new();
	kf.client = kube_client_new(kf.base, &auth, qps, burst, &errstr);
	kube_auth_clear(&auth);
	if (kf.client == NULL) {
		fprintf(stderr, "kube_fetch: %s\n", errstr);
		event_base_free(kf.base);
		return 2;
	}
	kf.retries = ns > 1 ? 1 : 0;
	kube_fetch_start(&kf);
	while (!kf.done) {
		clock_update();
		if (event_base_loop(kf.base, EVLOOP_ONCE) != 0)
			break;
	}
	if (kf.req != NULL)
		kube_req_cancel(kf.req);
	kube_client_free(kf.client);
	event_base_free(kf.base);
	return kf.rv;
}
