/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of the local read API as a client reaches it: the
 * input is what a client writes on a TCP connection (one or more HTTP/1.1
 * requests), sent to the real server (api.c on libevhtp, its routes, the
 * Kubernetes paths, query strings and selectors of api_kube.c, GET, LIST,
 * WATCH and Table answers over a store holding a few objects); then the
 * client half-closes and reads until the server is done. What comes back
 * must be HTTP/1.x, whatever version the request named (corpus file
 * version-2-1). Any crash, sanitizer report or abort() is a bug. Build
 * with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_api_route tests/fuzz/corpus/api_route.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api/api.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

#define FUZZ_TURNS	200	/* loop turns to send, and to close */
#define FUZZ_QUIET	10	/* turns without an answer byte: done */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*fuzz_base;
static struct store		*fuzz_store;
static struct conf		*fuzz_conf;
static struct api		*fuzz_api;
static int			 fuzz_port;
static char			 fuzz_dir[] = "/tmp/fuzz_api_route.XXXXXX";

/* What the store holds: objects of a few kinds the API serves. */
static const char *const fuzz_objects[][2] = {
	{ "o/pods/default/web", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
	    "\"labels\":{\"app\":\"web\",\"tier\":\"a\"},\"creationTimestamp\":"
	    "\"2026-01-01T00:00:00Z\"},\"spec\":{\"nodeName\":\"n1\","
	    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
	    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.2\"}}" },
	{ "o/pods/kube-system/dns", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"dns\",\"namespace\":\"kube-system\"},"
	    "\"spec\":{},\"status\":{\"phase\":\"Pending\"}}" },
	{ "o/nodes//n1", "{\"apiVersion\":\"v1\",\"kind\":\"Node\","
	    "\"metadata\":{\"name\":\"n1\",\"labels\":{\"a\":\"b\"}},"
	    "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\"}]}}" },
	{ "o/configmaps/default/cm", "{\"apiVersion\":\"v1\",\"kind\":"
	    "\"ConfigMap\",\"metadata\":{\"name\":\"cm\",\"namespace\":"
	    "\"default\"},\"data\":{\"k\":\"v\"}}" },
};

/* What the client has read of the answers. */
struct fuzz_client {
	int	fd;
	int	closed;		/* the server closed */
	int	seen;		/* any byte came */
	int	http;		/* the first bytes were "HTTP/1." */
	size_t	got;		/* bytes in the last read round */
};

/* Reads and drops what the server sent. */
static void
fuzz_read(struct fuzz_client *c)
{
	char	buf[8192];
	ssize_t	n;

	c->got = 0;
	while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
		if (!c->seen) {
			c->seen = 1;
			c->http = n >= 7 && memcmp(buf, "HTTP/1.", 7) == 0;
		}
		c->got += (size_t)n;
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		c->closed = 1;
}

static int
fuzz_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* At exit: the server, the store, and its directory. */
static void
fuzz_cleanup(void)
{
	api_free(fuzz_api);
	store_close(fuzz_store);
	conf_free(fuzz_conf);
	event_base_free(fuzz_base);
	nftw(fuzz_dir, fuzz_rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* Binds the API on a free loopback port. */
static void
fuzz_listen(void)
{
	const char	*errstr;
	int		 i;

	for (i = 0; i < 100 && fuzz_api == NULL; i++) {
		fuzz_port = 20000 + (int)((getpid() * 7919 + i * 104729) %
		    40000);
		free(fuzz_conf->api_listen);
		xasprintf(&fuzz_conf->api_listen, "127.0.0.1:%d", fuzz_port);
		fuzz_api = api_new(fuzz_base, fuzz_conf, fuzz_store, &errstr);
	}
	if (fuzz_api == NULL)
		abort();
}

/* Once: a loop, a store with objects, the API on a loopback port. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_batch	*b;
	const char		*errstr;
	size_t			 i;

	(void)argc;
	(void)argv;
	json_init();
	log_init(LOG_LEVEL_WARN, "fuzz_api_route");
	/* as in the daemon: a peer gone is an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if ((fuzz_base = event_base_new()) == NULL ||
	    mkdtemp(fuzz_dir) == NULL ||
	    (fuzz_store = store_open(fuzz_base, fuzz_dir, &errstr)) == NULL)
		abort();
	b = store_batch_new(fuzz_store);
	for (i = 0; i < sizeof(fuzz_objects) / sizeof(fuzz_objects[0]); i++)
		store_batch_put(b, fuzz_objects[i][0], fuzz_objects[i][1],
		    strlen(fuzz_objects[i][1]));
	if (store_batch_commit(b) == -1)
		abort();
	fuzz_conf = conf_defaults();
	fuzz_listen();
	atexit(fuzz_cleanup);
	return 0;
}

/* A connected client socket, non-blocking. */
static int
fuzz_connect(void)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fuzz_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		abort();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		abort();
	return fd;
}

/*
 * Sends the input, lets the server answer until it has been quiet for a
 * while (a watch stays open), half-closes, and reads until it closes.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client	 c;
	size_t			 off = 0;
	ssize_t			 w;
	int			 turns = 0, quiet = 0;

	memset(&c, 0, sizeof(c));
	c.fd = fuzz_connect();
	while (turns++ < FUZZ_TURNS && off < size && !c.closed) {
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		if ((w = send(c.fd, data + off, size - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN && errno != EINTR)
			break;
		fuzz_read(&c);
	}
	while (turns++ < FUZZ_TURNS && !c.closed && quiet < FUZZ_QUIET) {
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		fuzz_read(&c);
		quiet = c.got != 0 ? 0 : quiet + 1;
	}
	shutdown(c.fd, SHUT_WR);
	while (turns++ < 2 * FUZZ_TURNS && !c.closed) {
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		fuzz_read(&c);
	}
	close(c.fd);
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	if (c.seen && !c.http)
		abort();
	return 0;
}
