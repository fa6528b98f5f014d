/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/2 side of the cri room (cri_h2.c, the only user of nghttp2
 * besides the version line of core/version.c):
 * one gRPC connection to a unix socket, with prior knowledge, carrying
 * unary calls as streams. The connection is a state machine that connects,
 * waits for the server's SETTINGS, and after any failure backs off and
 * connects again. cri.c owns the calls above it.
 */
#ifndef EDGESITE_CRI_H2_H
#define EDGESITE_CRI_H2_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cri_h2;
struct cri_h2_stream;

enum cri_h2_state {
	CRI_H2_DISCONNECTED = 0,
	CRI_H2_CONNECTING,	/* connected, waiting for the server SETTINGS */
	CRI_H2_READY,		/* streams may start */
	CRI_H2_BACKOFF,		/* waiting to connect again */
};

/* How a stream ended, below gRPC. */
enum cri_h2_error {
	CRI_H2_E_NONE = 0,	/* it closed cleanly: look at grpc_status */
	CRI_H2_E_LOST,		/* the connection went away */
	CRI_H2_E_RESET,		/* the server reset the stream */
	CRI_H2_E_REFUSED,	/* never processed (GOAWAY, REFUSED_STREAM) */
	CRI_H2_E_PROTOCOL,	/* bad framing, compression, too many headers */
	CRI_H2_E_TOO_LARGE,	/* the reply is over the size limit */
};

/* What a stream brought back; valid during the callback only. */
struct cri_h2_reply {
	enum cri_h2_error	 error;
	int			 sent;		/* the server may have seen it */
	int			 http_status;	/* 0 when none came */
	int			 grpc_status;	/* -1 when none came */
	const char		*grpc_message;	/* decoded, or error text; never NULL */
	const uint8_t		*data;		/* the reply message, no prefix */
	size_t			 len;
	int			 has_data;	/* a message came (may be empty) */
};

/* A stream ended; never runs for a cancelled stream, never re-entrantly. */
typedef void (*cri_h2_done_cb)(struct cri_h2_stream *,
    const struct cri_h2_reply *, void *arg);
/* The connection changed state; why is a short text for the log. */
typedef void (*cri_h2_state_cb)(struct cri_h2 *, enum cri_h2_state,
    const char *why, void *arg);

/*
 * A connection to the unix socket at path, named name in logs, that starts
 * connecting at once. Replies larger than max_msg fail the stream.
 */
struct cri_h2	*cri_h2_new(struct event_base *, const char *path,
		    const char *name, size_t max_msg, cri_h2_state_cb,
		    void *arg);
/* Closes and frees; no callback runs after it. Accepts NULL. */
void		 cri_h2_free(struct cri_h2 *);
enum cri_h2_state cri_h2_state(struct cri_h2 *);
const char	*cri_h2_state_name(enum cri_h2_state);
/* Sets the largest reply accepted from now on. */
void		 cri_h2_set_max_msg(struct cri_h2 *, size_t);
/* Drops the connection (failing its streams) and backs off: why is logged. */
void		 cri_h2_reset(struct cri_h2 *, const char *why);

/*
 * Starts a unary call on a READY connection: POST path with the message
 * (copied) in one gRPC frame, and grpc-timeout timeout_ms when not 0.
 * Returns NULL when the connection is not READY.
 */
struct cri_h2_stream *cri_h2_call(struct cri_h2 *, const char *path,
		    const uint8_t *msg, size_t len, uint64_t timeout_ms,
		    cri_h2_done_cb, void *arg);
/* Resets the stream (CANCEL); its callback never runs. */
void		 cri_h2_cancel(struct cri_h2_stream *);

#endif
