/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of the CRI client's HTTP/2 side (cri_h2.c, nghttp2),
 * fed what a runtime sends on the socket: a cri_h2 connects to a unix
 * socket the harness listens on, and the input is written back to it one
 * HTTP/2 frame at a time (by the 9-byte headers' lengths), with loop turns
 * between, as the server's side of the connection. Once the connection is
 * READY a unary call (Version) starts, so frames for stream 1 answer it.
 * Then the socket closes. The call's callback must run at most once, with
 * a message, and a reply no larger than the limit. Any crash, sanitizer
 * report or abort() is a bug. Build with clang: ./configure
 * --enable-fuzzing CC=clang; run: tests/fuzz/fuzz_cri_h2
 * tests/fuzz/corpus/cri_h2.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "cri/cri_h2.h"

#define FUZZ_MAX_MSG	4096
#define FUZZ_TURNS	4
#define FUZZ_METHOD	"/runtime.v1.RuntimeService/Version"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*fuzz_base;
static int			 fuzz_lfd = -1;
static char			 fuzz_dir[] = "/tmp/fuzz_cri_h2.XXXXXX";
static char			 fuzz_path[sizeof(fuzz_dir) + 8];

struct fuzz_call {
	struct cri_h2_stream	*stream;
	int			 started;
	int			 done;
};

static void
fuzz_done_cb(struct cri_h2_stream *s, const struct cri_h2_reply *r,
    void *arg)
{
	struct fuzz_call	*c = arg;

	(void)s;
	if (c->done++ != 0 || r->grpc_message == NULL)
		abort();
	if (r->has_data && (r->len > FUZZ_MAX_MSG || (r->len > 0 &&
	    r->data == NULL)))
		abort();
	c->stream = NULL;
}

static void
fuzz_state_cb(struct cri_h2 *h2, enum cri_h2_state st, const char *why,
    void *arg)
{
	(void)h2;
	(void)st;
	(void)why;
	(void)arg;
}

/* A few loop turns, and the call once the connection is READY. */
static void
fuzz_turns(struct cri_h2 *h2, struct fuzz_call *c)
{
	int	i;

	for (i = 0; i < FUZZ_TURNS; i++)
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	if (!c->started && cri_h2_state(h2) == CRI_H2_READY) {
		c->started = 1;
		c->stream = cri_h2_call(h2, FUZZ_METHOD,
		    (const uint8_t *)"\x0a\x02v1", 4, 0, fuzz_done_cb, c);
	}
}

/* Reads and drops what the client wrote. */
static void
fuzz_drain(int fd)
{
	char	buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Writes all of p, turning the loop while the socket is full. */
static void
fuzz_send(int fd, const uint8_t *p, size_t n, struct cri_h2 *h2,
    struct fuzz_call *c)
{
	ssize_t	w;
	int	tries = 0;

	while (n > 0 && tries++ < 1000) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && errno != EAGAIN && errno != EINTR)
			return;
		fuzz_drain(fd);
		fuzz_turns(h2, c);
	}
}

/* The length of the frame at p: its header and payload, or what is left. */
static size_t
fuzz_frame_len(const uint8_t *p, size_t left)
{
	size_t	n;

	if (left < 9)
		return left;
	n = 9 + ((size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2]);
	return n < left ? n : left;
}

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

/* Once: the loop and the socket the runtime would listen on. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un	sun;

	(void)argc;
	(void)argv;
	log_init(LOG_LEVEL_WARN, "fuzz_cri_h2");
	/* as in the daemon: a peer gone is an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if ((fuzz_base = event_base_new()) == NULL ||
	    mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/sock", fuzz_dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, fuzz_path, sizeof(sun.sun_path) - 1);
	if ((fuzz_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) ==
	    -1 || bind(fuzz_lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fuzz_lfd, 4) == -1)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_call	 c = { NULL, 0, 0 };
	struct cri_h2		*h2;
	size_t			 off, n;
	int			 fd = -1, i;

	h2 = cri_h2_new(fuzz_base, fuzz_path, "fuzz", FUZZ_MAX_MSG,
	    fuzz_state_cb, NULL);
	for (i = 0; i < 100 && fd == -1; i++) {
		fuzz_turns(h2, &c);
		fd = accept4(fuzz_lfd, NULL, NULL, SOCK_NONBLOCK);
	}
	if (fd == -1)
		abort();
	for (off = 0; off < size; off += n) {
		n = fuzz_frame_len(data + off, size - off);
		fuzz_send(fd, data + off, n, h2, &c);
		fuzz_drain(fd);
		fuzz_turns(h2, &c);
	}
	close(fd);
	fuzz_turns(h2, &c);
	/* A call still open is cancelled: its callback must not run. */
	if (c.stream != NULL)
		cri_h2_cancel(c.stream);
	cri_h2_free(h2);
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	return 0;
}
