/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mqtt_load: the client side of the MQTT benchmark (tests/bench/
 * mqtt_bench.py runs it against the embedded broker and mosquitto). One
 * thread, poll(), raw MQTT 3.1.1 over TCP, so the load costs the same
 * whatever the broker. Build: cc -O2 -o mqtt_load mqtt_load.c
 *
 *   mqtt_load -p PORT throughput -s SUBS -n MSGS -q QOS [-z BYTES] [-w WIN]
 *	    [-k PUBS] [-P] [-R]
 *	SUBS subscribers on one topic, PUBS publishers (default 1) send MSGS
 *	messages between them (QoS 1: each has at most WIN unacknowledged);
 *	prints the time from the first PUBLISH until every subscriber has
 *	them all and, at QoS 1, every publisher has its last PUBACK (QoS 0:
 *	or 3 s of silence), and the counts. -P: the subscribers keep a
 *	persistent session (clean session 0); -R: the messages are
 *	retained.
 *   mqtt_load -p PORT latency -n ROUNDS -q QOS
 *	one message at a time from a publisher to a subscriber; prints the
 *	round-trip percentiles in microseconds.
 *   mqtt_load -p PORT idle -c CLIENTS
 *	CLIENTS connections, each subscribed to its own topic, held open
 *	until stdin closes; prints "ready" once all are subscribed.
 *
 * Output is one line of key=value pairs.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ	(256 * 1024)

struct conn {
	int		 fd;
	uint8_t		*in;
	size_t		 inlen;
	uint8_t		*out;
	size_t		 outlen;
	size_t		 outsz;
	long		 got;		/* PUBLISH received */
	long		 acks;		/* PUBACK/SUBACK/CONNACK received */
	int		 qos;
};

static int	port = 1883;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* Appends bytes to a connection's output. */
static void
put(struct conn *c, const void *p, size_t n)
{
	if (c->outlen + n > c->outsz) {
		c->outsz = (c->outlen + n) * 2;
		if ((c->out = realloc(c->out, c->outsz)) == NULL)
			die("realloc");
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* Appends a packet: first byte, remaining length, body. */
static void
put_packet(struct conn *c, uint8_t first, const uint8_t *body, size_t n)
{
	uint8_t	h[5];
	size_t	i = 1, rem = n;

	h[0] = first;
	do {
		h[i] = rem % 128;
		rem /= 128;
		if (rem > 0)
			h[i] |= 0x80;
		i++;
	} while (rem > 0);
	put(c, h, i);
	put(c, body, n);
}

static size_t
mstr(uint8_t *p, const char *s)
{
	size_t	n = strlen(s);

	p[0] = n >> 8;
	p[1] = n & 0xff;
	memcpy(p + 2, s, n);
	return n + 2;
}

/* Writes what it can; -1 on error. */
static int
flush(struct conn *c)
{
	ssize_t	n;

	while (c->outlen > 0) {
		n = write(c->fd, c->out, c->outlen);
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		memmove(c->out, c->out + n, c->outlen - n);
		c->outlen -= n;
	}
	return 0;
}

/* -P: subscribers keep a persistent session; -R: messages retained. */
static int	persistent, retained;

/* Connects and queues CONNECT (keep-alive 0). */
static void
conn_open(struct conn *c, const char *id, int clean)
{
	struct sockaddr_in	sin;
	uint8_t			body[300];
	size_t			n = 0;
	int			one = 1;

	memset(c, 0, sizeof(*c));
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("connect");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	c->in = malloc(BUFSZ);
	n += mstr(body + n, "MQTT");
	body[n++] = 4;
	body[n++] = clean ? 0x02 : 0;
	body[n++] = 0;
	body[n++] = 0;
	n += mstr(body + n, id);
	put_packet(c, 0x10, body, n);
}

static void
subscribe(struct conn *c, const char *topic, int qos)
{
	uint8_t	body[300];
	size_t	n = 0;

	body[n++] = 0;
	body[n++] = 1;
	n += mstr(body + n, topic);
	body[n++] = (uint8_t)qos;
	put_packet(c, 0x82, body, n);
}

static void
publish(struct conn *c, const char *topic, int qos, uint16_t id,
    const uint8_t *payload, size_t len)
{
	static uint8_t	*body;
	static size_t	 bodysz;
	size_t		 n = 0, need = strlen(topic) + len + 8;

	if (need > bodysz) {
		bodysz = need;
		if ((body = realloc(body, bodysz)) == NULL)
			die("realloc");
	}
	n += mstr(body, topic);
	if (qos > 0) {
		body[n++] = id >> 8;
		body[n++] = id & 0xff;
	}
	memcpy(body + n, payload, len);
	put_packet(c, (uint8_t)(0x30 | qos << 1 | retained), body, n + len);
}

/* Reads and handles whole packets; -1 when the connection ended. */
static int
conn_read(struct conn *c)
{
	ssize_t		n;
	size_t		i, rem, mult, off = 0, total;
	uint8_t		ack[2], type, qos;

	n = read(c->fd, c->in + c->inlen, BUFSZ - c->inlen);
	if (n == 0 || (n == -1 && errno != EAGAIN))
		return -1;
	if (n > 0)
		c->inlen += n;
	for (;;) {
		if (c->inlen - off < 2)
			break;
		rem = 0;
		mult = 1;
		for (i = 1; i < 5 && off + i < c->inlen; i++) {
			rem += (c->in[off + i] & 0x7f) * mult;
			mult *= 128;
			if (!(c->in[off + i] & 0x80))
				break;
		}
		if (off + i >= c->inlen)
			break;
		total = 1 + i + rem;
		if (total > BUFSZ) {
			fprintf(stderr, "packet too big\n");
			exit(1);
		}
		if (c->inlen - off < total)
			break;
		type = c->in[off] >> 4;
		qos = (c->in[off] >> 1) & 3;
		if (type == 3) {
			c->got++;
			if (qos == 1) {
				size_t	tl = c->in[off + i + 1] << 8 |
				    c->in[off + i + 2];

				memcpy(ack, c->in + off + i + 3 + tl, 2);
				put_packet(c, 0x40, ack, 2);
			}
		} else
			c->acks++;
		off += total;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

/* One poll round over conns; returns the number of ready fds. */
static int
poll_round(struct conn *cs, int n, struct pollfd *pfd, int ms)
{
	int	i, r;

	for (i = 0; i < n; i++) {
		pfd[i].fd = cs[i].fd;
		pfd[i].events = POLLIN | (cs[i].outlen > 0 ? POLLOUT : 0);
	}
	if ((r = poll(pfd, n, ms)) == -1 && errno != EINTR)
		die("poll");
	for (i = 0; i < n; i++) {
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (conn_read(&cs[i]) == -1) {
				fprintf(stderr, "connection %d closed\n", i);
				exit(1);
			}
		}
		if (cs[i].outlen > 0 && flush(&cs[i]) == -1)
			die("write");
	}
	return r;
}

/* Runs poll rounds until every conn has at least want acks. */
static void
wait_acks(struct conn *cs, int n, struct pollfd *pfd, long want)
{
	int	i, done;
	double	t0 = now();

	do {
		poll_round(cs, n, pfd, 100);
		for (done = 1, i = 0; i < n; i++)
			if (cs[i].acks < want)
				done = 0;
		if (now() - t0 > 30) {
			fprintf(stderr, "no acknowledgement in 30 s\n");
			exit(1);
		}
	} while (!done);
}

static void
raise_nofile(int n)
{
	struct rlimit	rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max :
		    (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Queues what publisher c may send now: its share, within its window. */
static void
pub_fill(struct conn *c, long *sent, long share, int qos, int win,
    const uint8_t *payload, size_t size)
{
	/* acks counts the CONNACK too: sent - (acks - 1) are in flight. */
	while (*sent < share && c->outlen < 64 * 1024 &&
	    (qos == 0 || *sent - c->acks + 1 < win)) {
		publish(c, "bench/t", qos, (uint16_t)(*sent % 65535 + 1),
		    payload, size);
		(*sent)++;
	}
}

/* 1 once every subscriber has msgs and, at QoS 1, every PUBACK is in. */
static int
all_done(struct conn *cs, int pubs, int n, const long *sent, long msgs,
    int qos)
{
	int	i;

	for (i = 0; i < pubs; i++)
		if (qos > 0 && cs[i].acks - 1 < sent[i])
			return 0;
	for (i = pubs; i < n; i++)
		if (cs[i].got < msgs)
			return 0;
	return 1;
}

static int
throughput(int subs, int pubs, long msgs, int qos, size_t size, int win)
{
	struct conn	*cs;
	struct pollfd	*pfd;
	uint8_t		*payload;
	char		 id[32];
	long		*sent, total = 0, all = 0;
	double		 t0, last, t;
	int		 i, done, n = subs + pubs;

	raise_nofile(n);
	cs = calloc(n, sizeof(*cs));
	pfd = calloc(n, sizeof(*pfd));
	sent = calloc(pubs, sizeof(*sent));
	payload = calloc(1, size + 1);
	memset(payload, 'x', size);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "load-%d-%d", getpid(), i);
		conn_open(&cs[i], id, i < pubs || !persistent);
		if (i >= pubs)
			subscribe(&cs[i], "bench/t", qos);
	}
	wait_acks(cs, pubs, pfd, 1);
	wait_acks(cs + pubs, subs, pfd, 2);
	t0 = last = now();
	for (;;) {
		/* Each publisher keeps its output short and its window full. */
		for (i = 0; i < pubs; i++)
			pub_fill(&cs[i], &sent[i], msgs / pubs +
			    (i < msgs % pubs), qos, win, payload, size);
		if (poll_round(cs, n, pfd, 100) > 0)
			last = now();
		for (all = 0, i = 0; i < pubs; i++)
			all += sent[i];
		done = all_done(cs, pubs, n, sent, msgs, qos);
		/* Lost QoS 0 messages: stop after 3 s of silence. */
		if (done || (all == msgs && now() - last > 3))
			break;
	}
	t = (done ? now() : last) - t0;
	for (i = pubs; i < n; i++)
		total += cs[i].got;
	printf("seconds=%.4f sent=%ld delivered=%ld expected=%ld "
	    "msgs_per_s=%.0f deliveries_per_s=%.0f\n", t, all, total,
	    msgs * subs, all / t, total / t);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
latency(long rounds, int qos)
{
	struct conn	cs[2];
	struct pollfd	pfd[2];
	uint8_t		payload[16] = "ping";
	double		*rtt, t0, sum = 0;
	long		r;

	rtt = calloc(rounds, sizeof(*rtt));
	conn_open(&cs[0], "lat-pub", 1);
	conn_open(&cs[1], "lat-sub", 1);
	subscribe(&cs[1], "bench/lat", qos);
	wait_acks(cs, 1, pfd, 1);
	wait_acks(cs + 1, 1, pfd, 2);
	for (r = 0; r < rounds; r++) {
		t0 = now();
		publish(&cs[0], "bench/lat", qos, (uint16_t)(r % 65535 + 1),
		    payload, sizeof(payload));
		while (cs[1].got <= r)
			poll_round(cs, 2, pfd, 1000);
		rtt[r] = (now() - t0) * 1e6;
		sum += rtt[r];
	}
	qsort(rtt, rounds, sizeof(*rtt), cmp_double);
	printf("rounds=%ld mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	    "max_us=%.1f\n", rounds, sum / rounds, rtt[rounds / 2],
	    rtt[rounds * 9 / 10], rtt[rounds * 99 / 100], rtt[rounds - 1]);
	return 0;
}

static int
idle(int clients)
{
	struct conn	*cs;
	struct pollfd	*pfd;
	char		 id[32], topic[64], buf[64];
	int		 i;

	raise_nofile(clients);
	cs = calloc(clients, sizeof(*cs));
	pfd = calloc(clients + 1, sizeof(*pfd));
	for (i = 0; i < clients; i++) {
		snprintf(id, sizeof(id), "idle-%d", i);
		snprintf(topic, sizeof(topic), "idle/%d/cmd", i);
		conn_open(&cs[i], id, 1);
		subscribe(&cs[i], topic, 1);
		flush(&cs[i]);
	}
	wait_acks(cs, clients, pfd, 2);
	printf("ready clients=%d\n", clients);
	fflush(stdout);
	/* Hold until stdin closes. */
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mqtt_load -p port throughput|latency|idle "
	    "[-s subs] [-n msgs] [-q qos] [-z bytes] [-w window] "
	    "[-k pubs] [-c clients] [-P] [-R]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*mode;
	long		 n = 10000;
	int		 ch, subs = 1, pubs = 1, qos = 0, win = 100;
	int		 clients = 1000;
	size_t		 size = 32;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "p:s:n:q:z:w:k:c:PR")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 's': subs = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'q': qos = atoi(optarg); break;
		case 'z': size = (size_t)atol(optarg); break;
		case 'w': win = atoi(optarg); break;
		case 'k': pubs = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'P': persistent = 1; break;
		case 'R': retained = 1; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	mode = argv[optind];
	if (pubs < 1 || win < 1 || win > 65535) {
		fprintf(stderr, "-k at least 1, -w 1 to 65535\n");
		return 2;
	}
	if (qos < 0 || qos > 1) {
		fprintf(stderr, "QoS 0 or 1\n");
		return 2;
	}
	if (strcmp(mode, "throughput") == 0)
		return throughput(subs, pubs, n, qos, size, win);
	if (strcmp(mode, "latency") == 0)
		return latency(n, qos);
	if (strcmp(mode, "idle") == 0)
		return idle(clients);
	usage();
	return 2;
}
