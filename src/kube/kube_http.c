/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The apiserver client: HTTP/1.1 over bufferevents, TLS through OpenSSL
 * (the only file of the kube room that includes it; the broker's TLS is in
 * mqtt/mqtt_tls.c), names resolved with evdns so the loop never blocks. A
 * client owns its servers, the TLS context, a token bucket (qps/burst),
 * the queue of requests waiting for budget and a small pool of
 * connections. Each connection is a state machine (resolve, connect,
 * handshake, idle, busy, closed); a plain request may reuse an idle
 * connection, a stream owns its own for as long as it runs. Responses go
 * through kube_http_parse.c, which limits every size the server controls.
 * A connect or TLS failure moves new requests to the next server.
 *
 * Lifetimes: connections and requests are reference counted; a callback
 * holds a reference while it runs, so closing or cancelling from inside
 * one only marks the object and the memory goes when the last reference
 * drops. Completions always run from a timer on a later loop turn.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/compat.h"
#include "core/log.h"
#include "core/version.h"
#include "core/xmalloc.h"
#include "kube/kube_config.h"
#include "kube/kube_http.h"
#include "kube/kube_http_parse.h"

/* Timeouts and the pool size. */
#define KUBE_HTTP_IDLE_MS		30000
#define KUBE_HTTP_CONNECT_MS		10000
#define KUBE_HTTP_POOL_MS		60000
#define KUBE_HTTP_POOL_MAX		4

struct kube_server {
	char		*url;		/* for logs: scheme://host:port */
	char		*host;		/* name or address, no brackets */
	char		*hostport;	/* the Host header */
	char		*prefix;	/* path prefix of the URL, or "" */
	char		 port[8];
	int		 tls;
	int		 literal;	/* host is an IP address */
	char		*told;		/* connect failure last logged, or NULL */
};

enum kube_req_state {
	KUBE_REQ_WAITING,		/* on client->waiting */
	KUBE_REQ_ACTIVE,		/* on client->active */
	KUBE_REQ_DONE,			/* completion timer armed */
};

struct kube_req {
	struct kube_client	*client;
	struct kube_conn	*conn;
	enum kube_req_state	 state;
	TAILQ_ENTRY(kube_req)	 entry;
	int			 refs;
	int			 cancelled;
	int			 paid;		/* has taken its qps token */
	int			 retried;	/* once, after a stale keep-alive */
	int			 stream;
	char			*method;
	char			*path;
	char			*body;
	size_t			 bodylen;
	char			*ctype;
	uint64_t		 idle_ms;
	kube_line_cb		 line_cb;
	kube_resp_cb		 done_cb;
	void			*arg;

	int			 status;
	uint64_t		 retry_after_ms;
	struct evbuffer		*resp_body;
	char			 errbuf[512];
	struct event		*done_ev;
};

enum kube_conn_state {
	KUBE_CONN_RESOLVING,
	KUBE_CONN_CONNECTING,
	KUBE_CONN_HANDSHAKING,
	KUBE_CONN_IDLE,
	KUBE_CONN_BUSY,
	KUBE_CONN_CLOSED,
};

static const char *kube_conn_state_names[] = {
	"resolving", "connecting", "handshaking", "idle", "busy", "closed",
};

enum kube_conn_event {
	KUBE_CONN_EV_START,		/* a new connection for conn->req */
	KUBE_CONN_EV_RESOLVED,		/* addresses in conn->ai */
	KUBE_CONN_EV_CONNECT_FAILED,	/* one address failed (conn->why) */
	KUBE_CONN_EV_CONNECTED,		/* TCP is up */
	KUBE_CONN_EV_HANDSHAKEN,	/* TLS is up */
	KUBE_CONN_EV_ASSIGN,		/* an idle connection got a request */
	KUBE_CONN_EV_READ,		/* bytes arrived */
	KUBE_CONN_EV_WRITTEN,		/* the request went out */
	KUBE_CONN_EV_EOF,		/* the server closed */
	KUBE_CONN_EV_ERROR,		/* socket or TLS error (conn->why) */
	KUBE_CONN_EV_TIMEOUT,		/* the timer ran out */
	KUBE_CONN_EV_CLOSE,		/* cancel, failover, shutdown */
};

/* A pending lookup; outlives its connection when that closes first. */
struct kube_dns {
	struct kube_conn	*conn;
};

struct kube_conn {
	struct kube_client	*client;
	char			 name[300];
	size_t			 server;
	enum kube_conn_state	 state;
	TAILQ_ENTRY(kube_conn)	 entry;
	int			 refs;
	struct kube_dns		*dns;
	struct evutil_addrinfo	*ai;
	struct evutil_addrinfo	*ai_next;
	int			 fd;
	struct event		*connect_ev;
	struct bufferevent	*bev;
	SSL			*ssl;
	struct event		*timer;
	struct kube_req		*req;
	u_int			 nreqs;
	char			 why[256];
	struct kube_parse	 parse;
};

struct kube_client {
	struct event_base	*base;
	struct evdns_base	*dns;
	SSL_CTX			*ctx;
	struct kube_server	*servers;
	size_t			 nservers;
	size_t			 cur;
	char			*token;
	char			*token_file;
	char			*sni;
	int			 insecure;
	int			 qps;
	int			 burst;
	uint64_t		 tokens_m;	/* thousandths of a token */
	uint64_t		 refill_ms;
	struct event		*kick_ev;
	TAILQ_HEAD(, kube_req)	 waiting;
	TAILQ_HEAD(, kube_req)	 active;
	TAILQ_HEAD(, kube_conn)	 conns;
	u_int			 next_id;
};

static char	kube_http_errbuf[512];

static void	kube_conn_fsm(struct kube_conn *, enum kube_conn_event);
static void	kube_conn_unref(struct kube_conn *);
static void	kube_req_unref(struct kube_req *);
static void	kube_client_kick(struct kube_client *);

/* True when s is an IPv4 or IPv6 address literal. */
static int
kube_http_is_ip(const char *s)
{
	struct in6_addr	a;

	return inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1;
}

/* Parses scheme://host[:port][/prefix] into srv; -1 when malformed. */
static int
kube_server_parse(const char *url, struct kube_server *srv)
{
	const char	*p, *h, *he, *pe;
	char		*end;
	long		 port;

	memset(srv, 0, sizeof(*srv));
	if (strncasecmp(url, "https://", 8) == 0) {
		srv->tls = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return -1;
	pe = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(pe - p)) != NULL || pe == p)
		return -1;
	if (*p == '[') {
		h = p + 1;
		if ((he = memchr(h, ']', (size_t)(pe - h))) == NULL)
			return -1;
		p = he + 1;
	} else {
		h = p;
		for (he = h; he < pe && *he != ':'; he++)
			;
		p = he;
	}
	if (he == h)
		return -1;
	port = srv->tls ? 443 : 80;
	if (p < pe) {
		if (*p != ':' || !isdigit((unsigned char)p[1]))
			return -1;
		port = strtol(p + 1, &end, 10);
		if (end != pe || port < 1 || port > 65535)
			return -1;
	}
	srv->host = xstrndup(h, (size_t)(he - h));
	srv->literal = kube_http_is_ip(srv->host);
	if (h != url && h[-1] == '[' && !srv->literal) {
		free(srv->host);
		return -1;
	}
	snprintf(srv->port, sizeof(srv->port), "%ld", port);
	if (strchr(srv->host, ':') != NULL)
		xasprintf(&srv->hostport, "[%s]:%ld", srv->host, port);
	else
		xasprintf(&srv->hostport, "%s:%ld", srv->host, port);
	xasprintf(&srv->url, "%s://%s", srv->tls ? "https" : "http",
	    srv->hostport);
	srv->prefix = xstrndup(pe, strcspn(pe, "?#"));
	if (*srv->prefix != '\0' && srv->prefix[strlen(srv->prefix) - 1] == '/')
		srv->prefix[strlen(srv->prefix) - 1] = '\0';
	return 0;
}

/* Frees what kube_server_parse allocated. */
static void
kube_server_clear(struct kube_server *srv)
{
	free(srv->url);
	free(srv->host);
	free(srv->hostport);
	free(srv->prefix);
	free(srv->told);
}

/* Formats an error into the static buffer for kube_client_new. */
static const char *
kube_http_fail(const char *what)
{
	unsigned long	e = ERR_peek_last_error();
	char		 buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(kube_http_errbuf, sizeof(kube_http_errbuf), "%s: %s",
		    what, buf);
	} else
		snprintf(kube_http_errbuf, sizeof(kube_http_errbuf), "%s", what);
	ERR_clear_error();
	return kube_http_errbuf;
}

/* Never prompts for a passphrase: encrypted keys are refused. */
static int
kube_http_nopass_cb(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Loads every certificate of a PEM text into the verify store. */
static int
kube_http_load_ca(SSL_CTX *ctx, const char *pem, const char **errstr)
{
	X509_STORE	*store = SSL_CTX_get_cert_store(ctx);
	BIO		*bio;
	X509		*x;
	int		 n = 0;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		*errstr = kube_http_fail("certificate-authority");
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, kube_http_nopass_cb,
	    NULL)) != NULL) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (n == 0) {
		*errstr = kube_http_fail("certificate-authority: no PEM "
		    "certificate found");
		return -1;
	}
	return 0;
}

/* Loads the client certificate (and its chain) and the matching key. */
static int
kube_http_load_client(SSL_CTX *ctx, const char *cert, const char *key,
    const char **errstr)
{
	BIO		*bio;
	X509		*x;
	EVP_PKEY	*pk;
	int		 first = 1;

	if ((bio = BIO_new_mem_buf(cert, -1)) == NULL)
		goto bad_cert;
	while ((x = PEM_read_bio_X509(bio, NULL, kube_http_nopass_cb,
	    NULL)) != NULL) {
		if (first ? SSL_CTX_use_certificate(ctx, x) != 1 :
		    SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(bio);
			goto bad_cert;
		}
		if (first)
			X509_free(x);
		first = 0;
	}
	BIO_free(bio);
	if (first)
		goto bad_cert;
	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(key, -1)) == NULL)
		goto bad_key;
	pk = PEM_read_bio_PrivateKey(bio, NULL, kube_http_nopass_cb, NULL);
	BIO_free(bio);
	if (pk == NULL)
		goto bad_key;
	/* OpenSSL 3 checks the pair here already. */
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		EVP_PKEY_free(pk);
		*errstr = kube_http_fail("client-key does not match "
		    "client-certificate");
		return -1;
	}
	EVP_PKEY_free(pk);
	return 0;
bad_cert:
	*errstr = kube_http_fail("client-certificate: no usable PEM "
	    "certificate");
	return -1;
bad_key:
	*errstr = kube_http_fail("client-key: no usable PEM private key "
	    "(encrypted keys are not supported)");
	return -1;
}

/* Builds the TLS context: verification, CA, client certificate. */
static SSL_CTX *
kube_http_tls_new(const struct kube_auth *auth, const char **errstr)
{
	static const unsigned char	 alpn[] = "\x08http/1.1";
	SSL_CTX				*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*errstr = kube_http_fail("cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_verify(ctx, auth->insecure ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	if (auth->ca_pem != NULL) {
		if (kube_http_load_ca(ctx, auth->ca_pem, errstr) == -1)
			goto fail;
	} else if (!auth->insecure)
		SSL_CTX_set_default_verify_paths(ctx);
	if ((auth->cert_pem == NULL) != (auth->key_pem == NULL)) {
		*errstr = "client-certificate and client-key go together";
		goto fail;
	}
	if (auth->cert_pem != NULL && kube_http_load_client(ctx,
	    auth->cert_pem, auth->key_pem, errstr) == -1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Re-reads the token file (for a new connection); keeps the old on error. */
static void
kube_client_token_refresh(struct kube_client *c)
{
	const char	*errstr;
	char		*t;

	if (c->token_file == NULL)
		return;
	if ((t = kube_config_token_read(c->token_file, &errstr)) == NULL) {
		log_warnx("kube: %s, keeping the last token", errstr);
		return;
	}
	xfree_secret(c->token);
	c->token = t;
}

/*
 * Connections.
 */

/* Takes a reference on conn (a callback running, a pending lookup). */
static void
kube_conn_ref(struct kube_conn *conn)
{
	conn->refs++;
}

/* Drops a reference; the last one frees conn (which is closed by then). */
static void
kube_conn_unref(struct kube_conn *conn)
{
	if (--conn->refs > 0)
		return;
	if (conn->timer != NULL)
		event_free(conn->timer);
	if (conn->connect_ev != NULL)
		event_free(conn->connect_ev);
	kube_parse_clear(&conn->parse);
	free(conn);
}

/* Logs a state change and makes it. */
static void
kube_conn_enter(struct kube_conn *conn, enum kube_conn_state st,
    const char *why)
{
	log_trace(LOG_SUB_KUBE, "%s: %s -> %s (%s)", conn->name,
	    kube_conn_state_names[conn->state], kube_conn_state_names[st], why);
	conn->state = st;
}

/* Stops every event of conn and unlinks it; the memory goes later. */
static void
kube_conn_close(struct kube_conn *conn, const char *why)
{
	struct kube_client	*c = conn->client;

	if (conn->state == KUBE_CONN_CLOSED)
		return;
	kube_conn_enter(conn, KUBE_CONN_CLOSED, why);
	TAILQ_REMOVE(&c->conns, conn, entry);
	if (conn->req != NULL) {
		conn->req->conn = NULL;
		conn->req = NULL;
	}
	if (conn->dns != NULL) {
		conn->dns->conn = NULL;
		conn->dns = NULL;
		kube_conn_unref(conn);
	}
	if (conn->ai != NULL)
		evutil_freeaddrinfo(conn->ai);
	conn->ai = conn->ai_next = NULL;
	evtimer_del(conn->timer);
	if (conn->connect_ev != NULL)
		event_del(conn->connect_ev);
	if (conn->bev != NULL)
		bufferevent_free(conn->bev);
	else if (conn->ssl != NULL)
		SSL_free(conn->ssl);
	conn->bev = NULL;
	conn->ssl = NULL;
	if (conn->fd != -1)
		close(conn->fd);
	conn->fd = -1;
	conn->client = NULL;
	kube_conn_unref(conn);
}

/* Completes conn's request with status (and an error text). */
static void
kube_conn_finish(struct kube_conn *conn, int status, const char *errstr)
{
	struct kube_req	*req = conn->req;

	if (req == NULL)
		return;
	conn->req = NULL;
	req->conn = NULL;
	req->status = status;
	if (errstr != NULL)
		snprintf(req->errbuf, sizeof(req->errbuf), "%s", errstr);
	req->state = KUBE_REQ_DONE;
	clock_timer_add(req->done_ev, 0);
}

/* Moves the client to its next server when this one is the current. */
static void
kube_conn_rotate(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;

	if (c->nservers > 1 && conn->server == c->cur)
		kube_client_failover(c);
}

/*
 * Logs a failure to connect to conn's server once: again only when the
 * reason changes or after the server was reached.
 */
static void
kube_conn_tell(struct kube_conn *conn, const char *msg)
{
	struct kube_server	*srv = &conn->client->servers[conn->server];

	if (srv->told != NULL && strcmp(srv->told, msg) == 0) {
		log_debug("%s: %s", conn->name, msg);
		return;
	}
	log_warnx("kube %s: %s", srv->url, msg);
	free(srv->told);
	srv->told = xstrdup(msg);
}

/* Fails conn's request with err, logs why once, and closes conn. */
static void
kube_conn_fail(struct kube_conn *conn, int err, const char *what)
{
	char	msg[512];

	if (what != NULL)
		snprintf(msg, sizeof(msg), "%s: %s", what, conn->why);
	else
		snprintf(msg, sizeof(msg), "%s", conn->why);
	if (err == KUBE_HTTP_ECONNECT)
		kube_conn_tell(conn, msg);
	else
		log_debug("%s: %s", conn->name, msg);
	kube_conn_finish(conn, err, msg);
	if (err == KUBE_HTTP_ECONNECT)
		kube_conn_rotate(conn);
	kube_conn_close(conn, msg);
}

/* libevent: the connection timer ran out. */
static void
kube_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_conn	*conn = arg;

	kube_conn_ref(conn);
	kube_conn_fsm(conn, KUBE_CONN_EV_TIMEOUT);
	kube_conn_unref(conn);
}

/* evdns: the server name resolved (or not). */
static void
kube_conn_dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct kube_dns		*d = arg;
	struct kube_conn	*conn = d->conn;

	free(d);
	if (conn == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	conn->dns = NULL;
	if (result != 0 || ai == NULL) {
		snprintf(conn->why, sizeof(conn->why), "cannot resolve %s: %s",
		    conn->client->servers[conn->server].host,
		    evutil_gai_strerror(result));
		kube_conn_fsm(conn, KUBE_CONN_EV_ERROR);
	} else {
		conn->ai = conn->ai_next = ai;
		kube_conn_fsm(conn, KUBE_CONN_EV_RESOLVED);
	}
	/* The reference taken for the lookup. */
	kube_conn_unref(conn);
}

/* Starts resolving the server name: at once for an address literal. */
static void
kube_conn_resolve(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;
	struct kube_server	*srv = &c->servers[conn->server];
	struct evutil_addrinfo	 hints;
	struct kube_dns		*d;
	int			 rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	if (srv->literal) {
		hints.ai_flags |= EVUTIL_AI_NUMERICHOST;
		if ((rv = evutil_getaddrinfo(srv->host, srv->port, &hints,
		    &conn->ai)) != 0) {
			snprintf(conn->why, sizeof(conn->why), "address %s: %s",
			    srv->host, evutil_gai_strerror(rv));
			kube_conn_fsm(conn, KUBE_CONN_EV_ERROR);
			return;
		}
		conn->ai_next = conn->ai;
		kube_conn_fsm(conn, KUBE_CONN_EV_RESOLVED);
		return;
	}
	if (c->dns == NULL && (c->dns = evdns_base_new(c->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL) {
		snprintf(conn->why, sizeof(conn->why), "no DNS resolver");
		kube_conn_fsm(conn, KUBE_CONN_EV_ERROR);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->conn = conn;
	conn->dns = d;
	kube_conn_ref(conn);
	/* The callback may run before this returns (hosts file). */
	evdns_getaddrinfo(c->dns, srv->host, srv->port, &hints,
	    kube_conn_dns_cb, d);
}

/* libevent: the non-blocking connect finished (or failed). */
static void
kube_conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_conn	*conn = arg;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	kube_conn_ref(conn);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(conn->why, sizeof(conn->why), "connect: %s",
		    strerror(err));
		kube_conn_fsm(conn, KUBE_CONN_EV_CONNECT_FAILED);
	} else
		kube_conn_fsm(conn, KUBE_CONN_EV_CONNECTED);
	kube_conn_unref(conn);
}

/* Starts connecting to the next address; 0, or -1 when none is left. */
static int
kube_conn_connect_next(struct kube_conn *conn)
{
	struct evutil_addrinfo	*ai;
	int			 fd;

	if (conn->connect_ev != NULL)
		event_del(conn->connect_ev);
	if (conn->fd != -1) {
		close(conn->fd);
		conn->fd = -1;
	}
	while ((ai = conn->ai_next) != NULL) {
		conn->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(conn->why, sizeof(conn->why), "socket: %s",
			    strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			conn->fd = fd;
			/* Reassigned, not freed: this may be its callback. */
			if (conn->connect_ev == NULL)
				conn->connect_ev = event_new(conn->client->base,
				    fd, EV_WRITE, kube_conn_connect_cb, conn);
			else
				event_assign(conn->connect_ev,
				    conn->client->base, fd, EV_WRITE,
				    kube_conn_connect_cb, conn);
			event_add(conn->connect_ev, NULL);
			return 0;
		}
		snprintf(conn->why, sizeof(conn->why), "connect: %s",
		    strerror(errno));
		close(fd);
	}
	return -1;
}

/* libevent: bytes arrived. */
static void
kube_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct kube_conn	*conn = arg;

	kube_conn_ref(conn);
	kube_conn_fsm(conn, KUBE_CONN_EV_READ);
	kube_conn_unref(conn);
}

/* libevent: the output buffer drained. */
static void
kube_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct kube_conn	*conn = arg;

	kube_conn_ref(conn);
	kube_conn_fsm(conn, KUBE_CONN_EV_WRITTEN);
	kube_conn_unref(conn);
}

/* Describes a TLS failure: verification result, else OpenSSL's reason. */
static void
kube_conn_tls_error(struct kube_conn *conn, int serr)
{
	unsigned long	 e, first = 0;
	long		 vr;
	const char	*r;

	while ((e = bufferevent_get_openssl_error(conn->bev)) != 0)
		if (first == 0)
			first = e;
	ERR_clear_error();
	vr = conn->ssl != NULL ? SSL_get_verify_result(conn->ssl) : X509_V_OK;
	if (vr != X509_V_OK && !conn->client->insecure)
		snprintf(conn->why, sizeof(conn->why),
		    "certificate verify failed (%s)",
		    X509_verify_cert_error_string(vr));
	else if (first != 0 && (r = ERR_reason_error_string(first)) != NULL)
		snprintf(conn->why, sizeof(conn->why), "%s", r);
	else if (serr != 0)
		snprintf(conn->why, sizeof(conn->why), "%s",
		    evutil_socket_error_to_string(serr));
	else
		snprintf(conn->why, sizeof(conn->why),
		    "connection closed by the server");
}

/* libevent: connected, end of stream, error. */
static void
kube_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct kube_conn	*conn = arg;

	kube_conn_ref(conn);
	if (what & BEV_EVENT_CONNECTED)
		kube_conn_fsm(conn, KUBE_CONN_EV_HANDSHAKEN);
	else if (what & BEV_EVENT_EOF)
		kube_conn_fsm(conn, KUBE_CONN_EV_EOF);
	else if (what & BEV_EVENT_ERROR) {
		if (conn->ssl != NULL)
			kube_conn_tls_error(conn, EVUTIL_SOCKET_ERROR());
		else
			snprintf(conn->why, sizeof(conn->why), "%s",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		kube_conn_fsm(conn, KUBE_CONN_EV_ERROR);
	}
	kube_conn_unref(conn);
}

/* Wraps the connected socket: TLS with SNI and name checks, or plain. */
static int
kube_conn_wrap(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;
	struct kube_server	*srv = &c->servers[conn->server];
	const char		*name;
	X509_VERIFY_PARAM	*param;
	int			 opts;

	opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	if (!srv->tls) {
		conn->bev = bufferevent_socket_new(c->base, conn->fd, opts);
	} else {
		if ((conn->ssl = SSL_new(c->ctx)) == NULL) {
			snprintf(conn->why, sizeof(conn->why), "SSL_new failed");
			return -1;
		}
		name = c->sni != NULL ? c->sni : srv->host;
		param = SSL_get0_param(conn->ssl);
		if (kube_http_is_ip(name))
			X509_VERIFY_PARAM_set1_ip_asc(param, name);
		else {
			SSL_set_tlsext_host_name(conn->ssl, name);
			X509_VERIFY_PARAM_set_hostflags(param,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			X509_VERIFY_PARAM_set1_host(param, name, 0);
		}
		conn->bev = bufferevent_openssl_socket_new(c->base, conn->fd,
		    conn->ssl, BUFFEREVENT_SSL_CONNECTING, opts);
		if (conn->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(conn->bev,
			    1);
	}
	if (conn->bev == NULL) {
		snprintf(conn->why, sizeof(conn->why),
		    "cannot create bufferevent");
		return -1;
	}
	conn->fd = -1;
	bufferevent_setcb(conn->bev, kube_conn_read_cb, kube_conn_write_cb,
	    kube_conn_event_cb, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	return 0;
}

/* A stream line from the parser: -1 when the request is gone after it. */
static int
kube_conn_line_cb(const char *line, size_t len, void *arg)
{
	struct kube_conn	*conn = arg;
	struct kube_req		*req = conn->req;
	int			 cancelled;

	req->refs++;
	req->line_cb(req, line, len, req->arg);
	cancelled = req->cancelled;
	kube_req_unref(req);
	return cancelled || conn->state == KUBE_CONN_CLOSED ? -1 : 0;
}

/* Writes the request line, headers and body; arms the idle timer. */
static void
kube_conn_send(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;
	struct kube_server	*srv = &c->servers[conn->server];
	struct kube_req		*req = conn->req;
	struct evbuffer		*out = bufferevent_get_output(conn->bev);

	kube_parse_start(&conn->parse, strcmp(req->method, "HEAD") == 0,
	    req->resp_body, KUBE_HTTP_MAX_BODY, req->stream ?
	    kube_conn_line_cb : NULL, KUBE_HTTP_MAX_LINE, conn);
	conn->nreqs++;
	evbuffer_add_printf(out, "%s %s%s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: edgesite/%s\r\nAccept: application/json\r\n"
	    "Accept-Encoding: gzip\r\n", req->method, srv->prefix, req->path,
	    srv->hostport, version_string());
	if (c->token != NULL) {
		evbuffer_add(out, "Authorization: Bearer ", 22);
		evbuffer_add(out, c->token, strlen(c->token));
		evbuffer_add(out, "\r\n", 2);
	}
	if (req->body != NULL || strcmp(req->method, "POST") == 0 ||
	    strcmp(req->method, "PUT") == 0 ||
	    strcmp(req->method, "PATCH") == 0) {
		if (req->ctype != NULL)
			evbuffer_add_printf(out, "Content-Type: %s\r\n",
			    req->ctype);
		evbuffer_add_printf(out, "Content-Length: %zu\r\n",
		    req->bodylen);
	}
	evbuffer_add(out, "\r\n", 2);
	if (req->body != NULL)
		evbuffer_add(out, req->body, req->bodylen);
	clock_timer_add(conn->timer, req->idle_ms);
}

/* Connected (and TLS up): send the request, or wait in the pool. */
static void
kube_conn_ready(struct kube_conn *conn, const char *why)
{
	struct kube_server	*srv = &conn->client->servers[conn->server];

	/* The next failure to connect is news again. */
	free(srv->told);
	srv->told = NULL;
	if (conn->req == NULL) {
		kube_conn_enter(conn, KUBE_CONN_IDLE, why);
		clock_timer_add(conn->timer, KUBE_HTTP_POOL_MS);
		return;
	}
	kube_client_token_refresh(conn->client);
	kube_conn_enter(conn, KUBE_CONN_BUSY, why);
	kube_conn_send(conn);
}

/* The response is complete: deliver it and keep or close conn. */
static void
kube_conn_complete(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;
	struct kube_req		*req = conn->req;
	struct kube_conn	*o;
	int			 reuse, n = 0;

	TAILQ_FOREACH(o, &c->conns, entry)
		if (o->state == KUBE_CONN_IDLE)
			n++;
	reuse = conn->parse.keepalive &&
	    evbuffer_get_length(bufferevent_get_input(conn->bev)) == 0 &&
	    conn->server == c->cur && n < KUBE_HTTP_POOL_MAX;
	req->retry_after_ms = conn->parse.retry_after_ms;
	kube_conn_finish(conn, conn->parse.status, NULL);
	if (!reuse) {
		kube_conn_close(conn, "response complete");
		return;
	}
	kube_conn_enter(conn, KUBE_CONN_IDLE, "response complete");
	clock_timer_add(conn->timer, KUBE_HTTP_POOL_MS);
}

/* Acts on what the parser said: complete, fail, or wait. */
static void
kube_conn_parsed(struct kube_conn *conn, int rv)
{
	if (rv == KUBE_PARSE_DONE)
		kube_conn_complete(conn);
	else if (rv == KUBE_PARSE_ERROR) {
		snprintf(conn->why, sizeof(conn->why), "%s", conn->parse.why);
		kube_conn_fail(conn, KUBE_HTTP_EPROTO, "bad response");
	}
}

/* A reused connection died before answering: retry the GET once. */
static int
kube_conn_retry(struct kube_conn *conn)
{
	struct kube_client	*c = conn->client;
	struct kube_req		*req = conn->req;

	if (req == NULL || conn->nreqs < 2 || conn->parse.got_bytes ||
	    req->retried || strcmp(req->method, "GET") != 0 ||
	    evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0)
		return 0;
	req->retried = 1;
	conn->req = NULL;
	req->conn = NULL;
	TAILQ_REMOVE(&c->active, req, entry);
	TAILQ_INSERT_HEAD(&c->waiting, req, entry);
	req->state = KUBE_REQ_WAITING;
	kube_conn_close(conn, "stale keep-alive connection");
	kube_client_kick(c);
	return 1;
}

/* Bytes arrived while busy: parse, then complete or fail. */
static void
kube_conn_busy_read(struct kube_conn *conn)
{
	clock_timer_add(conn->timer, conn->req->idle_ms);
	kube_conn_parsed(conn, kube_parse_feed(&conn->parse,
	    bufferevent_get_input(conn->bev)));
}

/* The server closed, or the socket failed, while conn was busy. */
static void
kube_conn_busy_lost(struct kube_conn *conn, enum kube_conn_event ev)
{
	int	rv;

	if (kube_conn_retry(conn))
		return;
	if (ev == KUBE_CONN_EV_EOF) {
		/* What is buffered may complete the answer. */
		rv = kube_parse_eof(&conn->parse,
		    bufferevent_get_input(conn->bev));
		if (rv != KUBE_PARSE_MORE) {
			kube_conn_parsed(conn, rv);
			return;
		}
		snprintf(conn->why, sizeof(conn->why),
		    "connection closed by the server mid-response");
	}
	kube_conn_fail(conn, KUBE_HTTP_EIO, NULL);
}

/*
 * The connection state machine: turns each event into the next state.
 */
static void
kube_conn_fsm(struct kube_conn *conn, enum kube_conn_event ev)
{
	enum kube_conn_state	st = conn->state;

	if (st == KUBE_CONN_CLOSED)
		return;
	switch (ev) {
	case KUBE_CONN_EV_START:
		clock_timer_add(conn->timer, conn->req->idle_ms <
		    KUBE_HTTP_CONNECT_MS ? conn->req->idle_ms :
		    KUBE_HTTP_CONNECT_MS);
		kube_conn_resolve(conn);
		break;
	case KUBE_CONN_EV_RESOLVED:
		kube_conn_enter(conn, KUBE_CONN_CONNECTING, "resolved");
		if (kube_conn_connect_next(conn) == -1)
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT, NULL);
		break;
	case KUBE_CONN_EV_CONNECT_FAILED:
		if (kube_conn_connect_next(conn) == -1)
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT, NULL);
		break;
	case KUBE_CONN_EV_CONNECTED:
		if (kube_conn_wrap(conn) == -1)
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT, NULL);
		else if (conn->ssl != NULL)
			kube_conn_enter(conn, KUBE_CONN_HANDSHAKING,
			    "tcp connected");
		else
			kube_conn_ready(conn, "tcp connected");
		break;
	case KUBE_CONN_EV_HANDSHAKEN:
		if (st == KUBE_CONN_HANDSHAKING)
			kube_conn_ready(conn, "tls established");
		break;
	case KUBE_CONN_EV_ASSIGN:
		kube_conn_enter(conn, KUBE_CONN_BUSY, "reused");
		kube_conn_send(conn);
		break;
	case KUBE_CONN_EV_READ:
		if (st == KUBE_CONN_BUSY)
			kube_conn_busy_read(conn);
		else if (st == KUBE_CONN_IDLE)
			kube_conn_close(conn, "unexpected data while idle");
		break;
	case KUBE_CONN_EV_WRITTEN:
		if (st == KUBE_CONN_BUSY)
			clock_timer_add(conn->timer, conn->req->idle_ms);
		break;
	case KUBE_CONN_EV_EOF:
	case KUBE_CONN_EV_ERROR:
		if (st == KUBE_CONN_BUSY)
			kube_conn_busy_lost(conn, ev);
		else if (st == KUBE_CONN_IDLE)
			kube_conn_close(conn, "closed by the server");
		else if (st == KUBE_CONN_HANDSHAKING) {
			if (ev == KUBE_CONN_EV_EOF)
				kube_conn_tls_error(conn, 0);
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT,
			    "TLS handshake failed");
		} else
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT, NULL);
		break;
	case KUBE_CONN_EV_TIMEOUT:
		if (st == KUBE_CONN_IDLE)
			kube_conn_close(conn, "idle in the pool");
		else if (st == KUBE_CONN_BUSY) {
			snprintf(conn->why, sizeof(conn->why),
			    "no data for %llu ms",
			    (unsigned long long)conn->req->idle_ms);
			kube_conn_fail(conn, KUBE_HTTP_ETIMEOUT, NULL);
		} else {
			snprintf(conn->why, sizeof(conn->why),
			    "timed out %s", kube_conn_state_names[st]);
			kube_conn_fail(conn, KUBE_HTTP_ECONNECT, NULL);
		}
		break;
	case KUBE_CONN_EV_CLOSE:
		kube_conn_close(conn, conn->why);
		break;
	}
}

/* Creates a connection to the current server for req and starts it. */
static void
kube_conn_start(struct kube_client *c, struct kube_req *req)
{
	struct kube_conn	*conn;

	conn = xcalloc(1, sizeof(*conn));
	conn->client = c;
	conn->server = c->cur;
	conn->fd = -1;
	conn->refs = 1;
	conn->state = KUBE_CONN_RESOLVING;
	conn->timer = evtimer_new(c->base, kube_conn_timer_cb, conn);
	snprintf(conn->name, sizeof(conn->name), "kube %s #%u",
	    c->servers[c->cur].url, ++c->next_id);
	TAILQ_INSERT_TAIL(&c->conns, conn, entry);
	conn->req = req;
	req->conn = conn;
	log_trace(LOG_SUB_KUBE, "%s: new connection for %s %s", conn->name,
	    req->method, req->path);
	kube_conn_ref(conn);
	kube_conn_fsm(conn, KUBE_CONN_EV_START);
	kube_conn_unref(conn);
}

/* Closes the pooled connections (all of them, or those off-server). */
static void
kube_client_close_idle(struct kube_client *c, int all)
{
	struct kube_conn	*conn, *next;

	TAILQ_FOREACH_SAFE(conn, &c->conns, entry, next) {
		if (conn->state == KUBE_CONN_IDLE &&
		    (all || conn->server != c->cur))
			kube_conn_close(conn, "failover");
	}
}

/*
 * Requests.
 */

/* Drops a reference on req; the last one frees it. */
static void
kube_req_unref(struct kube_req *req)
{
	if (--req->refs > 0)
		return;
	event_free(req->done_ev);
	evbuffer_free(req->resp_body);
	free(req->method);
	free(req->path);
	if (req->body != NULL)
		explicit_bzero(req->body, req->bodylen);
	free(req->body);
	free(req->ctype);
	free(req);
}

/* libevent: delivers the completion on its own loop turn. */
static void
kube_req_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_req		*req = arg;
	struct kube_resp	 resp;

	TAILQ_REMOVE(&req->client->active, req, entry);
	req->client = NULL;
	memset(&resp, 0, sizeof(resp));
	resp.status = req->status;
	evbuffer_add(req->resp_body, "", 1);
	resp.len = evbuffer_get_length(req->resp_body) - 1;
	resp.body = (const char *)evbuffer_pullup(req->resp_body, -1);
	resp.retry_after_ms = req->retry_after_ms;
	if (req->status < 0)
		resp.errstr = req->errbuf;
	req->done_cb(req, &resp, req->arg);
	kube_req_unref(req);
}

/* Checks the method and path cannot break the request framing. */
static int
kube_req_valid(const char *method, const char *path)
{
	const char	*p;

	if (*method == '\0' || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	    strlen(method) || path[0] != '/')
		return 0;
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* Starts an admitted request: an idle pooled connection or a new one. */
static void
kube_req_start(struct kube_client *c, struct kube_req *req)
{
	struct kube_conn	*conn;

	if (!kube_req_valid(req->method, req->path)) {
		req->status = KUBE_HTTP_EPROTO;
		snprintf(req->errbuf, sizeof(req->errbuf), "bad method or "
		    "path");
		req->state = KUBE_REQ_DONE;
		clock_timer_add(req->done_ev, 0);
		return;
	}
	TAILQ_FOREACH(conn, &c->conns, entry) {
		if (conn->state == KUBE_CONN_IDLE && conn->server == c->cur)
			break;
	}
	if (conn == NULL) {
		kube_conn_start(c, req);
		return;
	}
	conn->req = req;
	req->conn = conn;
	kube_conn_ref(conn);
	kube_conn_fsm(conn, KUBE_CONN_EV_ASSIGN);
	kube_conn_unref(conn);
}

/* Takes a token from the bucket: 0, or the ms until one is there. */
static uint64_t
kube_client_take(struct kube_client *c)
{
	uint64_t	now = clock_mono_ms(), cap;

	if (c->qps <= 0)
		return 0;
	cap = (uint64_t)c->burst * 1000;
	if (now > c->refill_ms) {
		c->tokens_m += (now - c->refill_ms) * (uint64_t)c->qps;
		if (c->tokens_m > cap)
			c->tokens_m = cap;
	}
	c->refill_ms = now;
	if (c->tokens_m >= 1000) {
		c->tokens_m -= 1000;
		return 0;
	}
	return (1000 - c->tokens_m + (uint64_t)c->qps - 1) / (uint64_t)c->qps;
}

/* Admits waiting requests while the budget allows; else waits. */
static void
kube_client_dispatch(struct kube_client *c)
{
	struct kube_req	*req;
	uint64_t	 wait;

	while ((req = TAILQ_FIRST(&c->waiting)) != NULL) {
		if (!req->paid) {
			if ((wait = kube_client_take(c)) > 0) {
				clock_timer_add(c->kick_ev, wait);
				return;
			}
			req->paid = 1;
		}
		TAILQ_REMOVE(&c->waiting, req, entry);
		TAILQ_INSERT_TAIL(&c->active, req, entry);
		req->state = KUBE_REQ_ACTIVE;
		kube_req_start(c, req);
	}
}

/* libevent: the kick timer (new requests, budget refilled). */
static void
kube_client_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	kube_client_dispatch(arg);
}

/* Runs the dispatcher on the next loop turn. */
static void
kube_client_kick(struct kube_client *c)
{
	clock_timer_add(c->kick_ev, 0);
}

/* Allocates a request and queues it for the dispatcher. */
static struct kube_req *
kube_req_new(struct kube_client *c, const char *method, const char *path,
    uint64_t idle_ms, kube_resp_cb done_cb, void *arg)
{
	struct kube_req	*req;

	req = xcalloc(1, sizeof(*req));
	req->client = c;
	req->refs = 1;
	req->method = xstrdup(method);
	req->path = xstrdup(path);
	req->idle_ms = idle_ms != 0 ? idle_ms : KUBE_HTTP_IDLE_MS;
	req->done_cb = done_cb;
	req->arg = arg;
	req->resp_body = evbuffer_new();
	req->done_ev = evtimer_new(c->base, kube_req_done_cb, req);
	req->state = KUBE_REQ_WAITING;
	TAILQ_INSERT_TAIL(&c->waiting, req, entry);
	kube_client_kick(c);
	return req;
}

struct kube_req *
kube_http_request(struct kube_client *c, const char *method,
    const char *path, const char *body, const char *content_type,
    uint64_t idle_ms, kube_resp_cb done_cb, void *arg)
{
	struct kube_req	*req;

	req = kube_req_new(c, method, path, idle_ms, done_cb, arg);
	if (body != NULL) {
		req->bodylen = strlen(body);
		req->body = xstrdup(body);
	}
	if (content_type != NULL)
		req->ctype = xstrdup(content_type);
	return req;
}

struct kube_req *
kube_http_stream(struct kube_client *c, const char *path, uint64_t idle_ms,
    kube_line_cb line_cb, kube_resp_cb done_cb, void *arg)
{
	struct kube_req	*req;

	req = kube_req_new(c, "GET", path, idle_ms, done_cb, arg);
	req->stream = 1;
	req->line_cb = line_cb;
	return req;
}

void
kube_req_cancel(struct kube_req *req)
{
	struct kube_client	*c = req->client;
	struct kube_conn	*conn = req->conn;

	if (req->cancelled || c == NULL)
		return;
	req->cancelled = 1;
	if (req->state == KUBE_REQ_WAITING)
		TAILQ_REMOVE(&c->waiting, req, entry);
	else
		TAILQ_REMOVE(&c->active, req, entry);
	evtimer_del(req->done_ev);
	req->client = NULL;
	if (conn != NULL) {
		conn->req = NULL;
		req->conn = NULL;
		snprintf(conn->why, sizeof(conn->why), "request cancelled");
		kube_conn_ref(conn);
		kube_conn_fsm(conn, KUBE_CONN_EV_CLOSE);
		kube_conn_unref(conn);
	}
	kube_req_unref(req);
}

/*
 * The client.
 */

/* Copies the servers out of auth; -1 with *errstr on a bad URL. */
static int
kube_client_servers(struct kube_client *c, const struct kube_auth *auth,
    const char **errstr)
{
	size_t	n;

	for (n = 0; auth->servers != NULL && auth->servers[n] != NULL; n++)
		;
	if (n == 0) {
		*errstr = "no apiserver URL";
		return -1;
	}
	c->servers = xcalloc(n, sizeof(*c->servers));
	for (c->nservers = 0; c->nservers < n; c->nservers++) {
		if (kube_server_parse(auth->servers[c->nservers],
		    &c->servers[c->nservers]) == -1) {
			snprintf(kube_http_errbuf, sizeof(kube_http_errbuf),
			    "bad apiserver URL: %s", auth->servers[c->nservers]);
			*errstr = kube_http_errbuf;
			return -1;
		}
	}
	return 0;
}

struct kube_client *
kube_client_new(struct event_base *base, const struct kube_auth *auth,
    int qps, int burst, const char **errstr)
{
	struct kube_client	*c;
	size_t			 i;
	int			 tls = 0;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->active);
	TAILQ_INIT(&c->conns);
	c->kick_ev = evtimer_new(base, kube_client_kick_cb, c);
	if (kube_client_servers(c, auth, errstr) == -1)
		goto fail;
	for (i = 0; i < c->nservers; i++)
		tls |= c->servers[i].tls;
	if (tls && (c->ctx = kube_http_tls_new(auth, errstr)) == NULL)
		goto fail;
	if (auth->token != NULL)
		c->token = xstrdup(auth->token);
	if (auth->token_file != NULL)
		c->token_file = xstrdup(auth->token_file);
	if (auth->tls_server_name != NULL)
		c->sni = xstrdup(auth->tls_server_name);
	c->insecure = auth->insecure;
	c->qps = qps;
	c->burst = burst < 1 ? 1 : burst;
	c->tokens_m = (uint64_t)c->burst * 1000;
	c->refill_ms = clock_mono_ms();
	return c;
fail:
	kube_client_free(c);
	return NULL;
}

void
kube_client_free(struct kube_client *c)
{
	struct kube_req		*req;
	struct kube_conn	*conn;
	size_t			 i;

	if (c == NULL)
		return;
	while ((req = TAILQ_FIRST(&c->waiting)) != NULL)
		kube_req_cancel(req);
	while ((req = TAILQ_FIRST(&c->active)) != NULL)
		kube_req_cancel(req);
	while ((conn = TAILQ_FIRST(&c->conns)) != NULL)
		kube_conn_close(conn, "client freed");
	event_free(c->kick_ev);
	/* Pending lookups have let go of their connections already. */
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	SSL_CTX_free(c->ctx);
	for (i = 0; i < c->nservers; i++)
		kube_server_clear(&c->servers[i]);
	free(c->servers);
	xfree_secret(c->token);
	free(c->token_file);
	free(c->sni);
	free(c);
}

const char *
kube_client_server(struct kube_client *c)
{
	return c->servers[c->cur].url;
}

void
kube_client_failover(struct kube_client *c)
{
	size_t	old = c->cur;

	if (c->nservers < 2)
		return;
	c->cur = (c->cur + 1) % c->nservers;
	log_info("kube: failover from %s to %s", c->servers[old].url,
	    c->servers[c->cur].url);
	kube_client_close_idle(c, 0);
}
