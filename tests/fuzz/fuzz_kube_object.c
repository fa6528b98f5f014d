/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of list and watch JSON as the reflectors take it into
 * the store (kube_object.c). The first byte picks the reflector's scope
 * (all pods, the pods of one namespace, one configmap, the nodes); the
 * rest is read as a watch stream, one event a line, and as a list body
 * whose items are stored. What is stored must be a JSON object of at most
 * the value limit, under the key its own name and namespace give (and a
 * watch's with its resume point); a delete or a bookmark has its resume
 * point; a skip says why. Any crash, sanitizer report or abort() is a
 * bug. Build with clang: ./configure --enable-fuzzing CC=clang; run:
 * tests/fuzz/fuzz_kube_object tests/fuzz/corpus/kube_object.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "kube/kube_object.h"

#define FUZZ_MAX_VALUE	4096

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct kube_object_scope fuzz_scopes[] = {
	{ "pods", 1, NULL, NULL },
	{ "pods", 1, "default", NULL },
	{ "configmaps", 1, "default", "cm" },
	{ "nodes", 0, NULL, NULL },
};

/* The stored text names the object the key says. */
static void
fuzz_check_put(const struct kube_object_scope *sc,
    const struct kube_object_event *ev)
{
	const char	*errstr, *name, *ns;
	cJSON		*obj;
	char		*want;
	int		 n;

	if (ev->key == NULL || ev->text == NULL || ev->len > FUZZ_MAX_VALUE ||
	    strlen(ev->text) != ev->len)
		abort();
	if ((obj = json_parse(ev->text, ev->len, ev->len, &errstr)) == NULL ||
	    !cJSON_IsObject(obj) || json_get(obj, "metadata.managedFields") !=
	    NULL)
		abort();
	name = json_get_string(obj, "metadata.name");
	ns = sc->namespaced ? json_get_string(obj, "metadata.namespace") : "";
	if (name == NULL || ns == NULL)
		abort();
	n = asprintf(&want, "o/%s/%s/%s", sc->store_name, ns, name);
	if (n == -1 || strcmp(want, ev->key) != 0)
		abort();
	if ((sc->ns != NULL && strcmp(ns, sc->ns) != 0) ||
	    (sc->only != NULL && strcmp(name, sc->only) != 0))
		abort();
	free(want);
	cJSON_Delete(obj);
}

/* A list item's PUT has no resume point of its own: the list has it. */
static void
fuzz_check(const struct kube_object_scope *sc,
    const struct kube_object_event *ev, int watch)
{
	switch (ev->action) {
	case KUBE_OBJECT_SKIP:
		if (ev->why[0] == '\0')
			abort();
		break;
	case KUBE_OBJECT_IGNORE:
		break;
	case KUBE_OBJECT_PUT:
		fuzz_check_put(sc, ev);
		if (!watch)
			break;
		/* FALLTHROUGH */
	case KUBE_OBJECT_DELETE:
	case KUBE_OBJECT_BOOKMARK:
		if (ev->rv == NULL || *ev->rv == '\0')
			abort();
		if (ev->action == KUBE_OBJECT_DELETE && (ev->key == NULL ||
		    ev->text != NULL))
			abort();
		break;
	case KUBE_OBJECT_ERROR:
		if (ev->message == NULL)
			abort();
		break;
	}
}

/* The input as a list body, as kube_reflector_list_store reads one. */
static void
fuzz_list(const struct kube_object_scope *sc, const char *body, size_t len)
{
	struct kube_object_event	 ev;
	const char			*errstr, *listkind, *apiv;
	char				*kind = NULL;
	cJSON				*root, *item;
	size_t				 kl;

	if ((root = json_parse(body, len, len, &errstr)) == NULL)
		return;
	listkind = json_get_string(root, "kind");
	apiv = json_get_string(root, "apiVersion");
	if (listkind != NULL && (kl = strlen(listkind)) > 4 &&
	    strcmp(listkind + kl - 4, "List") == 0)
		kind = strndup(listkind, kl - 4);
	if (cJSON_IsArray(json_get(root, "items"))) {
		cJSON_ArrayForEach(item, json_get(root, "items")) {
			kube_object_item(sc, item, kind, apiv,
			    FUZZ_MAX_VALUE, &ev);
			if (ev.action != KUBE_OBJECT_PUT &&
			    ev.action != KUBE_OBJECT_SKIP &&
			    ev.action != KUBE_OBJECT_IGNORE)
				abort();
			fuzz_check(sc, &ev, 0);
			kube_object_event_clear(&ev);
		}
	}
	free(kind);
	cJSON_Delete(root);
}

/* Once before the first input: cJSON on xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kube_object_scope	*sc;
	struct kube_object_event	 ev;
	const char			*p, *end, *nl;

	if (size < 1)
		return 0;
	sc = &fuzz_scopes[data[0] % (sizeof(fuzz_scopes) /
	    sizeof(fuzz_scopes[0]))];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		kube_object_event(sc, p, (size_t)(nl - p), FUZZ_MAX_VALUE, &ev);
		fuzz_check(sc, &ev, 1);
		kube_object_event_clear(&ev);
	}
	fuzz_list(sc, (const char *)data + 1, size - 1);
	return 0;
}
