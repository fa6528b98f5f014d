/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML documents, read through libyaml's adapter (core/yamldoc.c, the only
 * file that includes yaml.h). A caller either walks a document's nodes,
 * with the line and column of each for its messages (the configuration
 * and the kubeconfig), or converts one to a cJSON tree (pod manifests).
 * The structs are opaque; nodes belong to their document.
 */
#ifndef EDGESITE_YAMLDOC_H
#define EDGESITE_YAMLDOC_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct yamldoc;
struct yamldoc_node;

/* A position in the text, 1-based. */
struct yamldoc_mark {
	size_t		line;
	size_t		col;
};

enum yamldoc_type {
	YAMLDOC_SCALAR,
	YAMLDOC_SEQUENCE,
	YAMLDOC_MAPPING,
};

/* A syntax error as libyaml reports it; its texts are static. */
struct yamldoc_error {
	const char		*problem;	/* NULL: none given */
	const char		*context;	/* being parsed, or NULL */
	size_t			 context_line;	/* 1-based */
	struct yamldoc_mark	 at;
	int			 reader;	/* encoding error at offset */
	size_t			 offset;
};

/* A parser over len bytes of buf, which must outlive it; no document yet. */
struct yamldoc		*yamldoc_new(const char *buf, size_t len);
/*
 * Loads the next document in place of the current one: 0 (its root is
 * NULL at the end of the stream), or -1 with *err on a syntax error.
 */
int			 yamldoc_next(struct yamldoc *,
			    struct yamldoc_error *err);
/* Wipes every scalar of the current document (keys and tokens). */
void			 yamldoc_wipe(struct yamldoc *);
/* Frees the parser and its document; accepts NULL. */
void			 yamldoc_free(struct yamldoc *);
/* libyaml's version, for -V. */
const char		*yamldoc_version(void);

/* The root of the current document, NULL when the stream has ended. */
struct yamldoc_node	*yamldoc_root(struct yamldoc *);
enum yamldoc_type	 yamldoc_type(const struct yamldoc_node *);
struct yamldoc_mark	 yamldoc_mark(const struct yamldoc_node *);
/* A scalar's text and length (*lenp may be NULL); NULL for other nodes. */
const char		*yamldoc_scalar(const struct yamldoc_node *,
			    size_t *lenp);
/* Whether a scalar is plain (unquoted, not a block). */
int			 yamldoc_plain(const struct yamldoc_node *);
/* Whether a node is YAML null: a plain "", "~", "null", "Null", "NULL". */
int			 yamldoc_null(const struct yamldoc_node *);
/* Items of a sequence or pairs of a mapping; 0 for a scalar. */
size_t			 yamldoc_count(const struct yamldoc_node *);
/* Item i of a sequence; key or value of pair i of a mapping. */
struct yamldoc_node	*yamldoc_item(struct yamldoc *,
			    const struct yamldoc_node *, size_t i);
struct yamldoc_node	*yamldoc_key(struct yamldoc *,
			    const struct yamldoc_node *, size_t i);
struct yamldoc_node	*yamldoc_value(struct yamldoc *,
			    const struct yamldoc_node *, size_t i);

/*
 * Converts node n to a cJSON tree the caller frees. Plain scalars follow
 * the YAML 1.2 core schema (null, booleans, integers, floats); quoted and
 * block scalars stay strings. Keys must be scalars, each once; depth and
 * node count (aliases can multiply nodes) are bounded. NULL with
 * "line:col: message" in err on failure.
 */
cJSON			*yamldoc_json(struct yamldoc *,
			    const struct yamldoc_node *n, char *err,
			    size_t errlen);

#endif
