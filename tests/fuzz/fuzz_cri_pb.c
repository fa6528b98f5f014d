/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness of what the container runtime answers, below gRPC:
 * the first byte picks the reply type of a CRI call, the rest is the
 * message, decoded with protobuf-c as cri.c does. The lists and statuses
 * then go where the pod room takes them (pod_cri.c: sandboxes and
 * containers into an observation, statuses applied to one), and the pod
 * status is built from that observation and must be JSON again; every
 * decoded message must encode to its packed size. Any crash, sanitizer
 * report or abort() is a bug. Build with clang: ./configure
 * --enable-fuzzing CC=clang; run: tests/fuzz/fuzz_cri_pb
 * tests/fuzz/corpus/cri_pb.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "pod/pod_int.h"
#include "pod/pod_cri.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The reply types of the calls edgesite makes (cri.c's table). */
static const ProtobufCMessageDescriptor *const fuzz_replies[] = {
	&runtime__v1__version_response__descriptor,
	&runtime__v1__status_response__descriptor,
	&runtime__v1__run_pod_sandbox_response__descriptor,
	&runtime__v1__pod_sandbox_status_response__descriptor,
	&runtime__v1__list_pod_sandbox_response__descriptor,
	&runtime__v1__create_container_response__descriptor,
	&runtime__v1__list_containers_response__descriptor,
	&runtime__v1__container_status_response__descriptor,
	&runtime__v1__exec_sync_response__descriptor,
	&runtime__v1__pull_image_response__descriptor,
	&runtime__v1__image_status_response__descriptor,
	&runtime__v1__list_images_response__descriptor,
};
#define FUZZ_NREPLIES	(sizeof(fuzz_replies) / sizeof(fuzz_replies[0]))

static const char fuzz_pod[] = "{\"metadata\":{\"name\":\"p\",\"namespace\":"
    "\"d\",\"uid\":\"u\"},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"busybox\"}]},\"status\":{}}";

/* The status of the pod from what the runtime said; JSON again. */
static void
fuzz_status(const struct pod_observed *o)
{
	struct pod_status_in	 in;
	const char		*errstr;
	cJSON			*pod, *st, *again;
	char			*text;

	pod = json_parse(fuzz_pod, strlen(fuzz_pod), JSON_MAX_DOCUMENT,
	    &errstr);
	memset(&in, 0, sizeof(in));
	in.pod = pod;
	in.obs = o;
	in.host_ip = "192.0.2.1";
	in.now = 1700000000;
	st = pod_status_build(&in);
	text = json_print(st);
	if ((again = json_parse(text, strlen(text), JSON_MAX_DOCUMENT,
	    &errstr)) == NULL)
		abort();
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(st);
	cJSON_Delete(pod);
}

/* What the pod room does with the lists and statuses. */
static void
fuzz_observe(const ProtobufCMessage *m)
{
	const Runtime__V1__ListPodSandboxResponse	*ls;
	const Runtime__V1__ListContainersResponse	*lc;
	const Runtime__V1__ContainerStatusResponse	*cs;
	const Runtime__V1__PodSandboxStatusResponse	*ss;
	struct pod_observed	 o;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	if (m->descriptor ==
	    &runtime__v1__list_pod_sandbox_response__descriptor) {
		ls = (const void *)m;
		for (i = 0; i < ls->n_items; i++)
			pod_cri_add_sandbox(&o, ls->items[i]);
	} else if (m->descriptor ==
	    &runtime__v1__list_containers_response__descriptor) {
		lc = (const void *)m;
		for (i = 0; i < lc->n_containers; i++)
			pod_cri_add_container(&o, lc->containers[i]);
	} else if (m->descriptor ==
	    &runtime__v1__container_status_response__descriptor) {
		cs = (const void *)m;
		if (cs->status != NULL) {
			o.c = calloc(1, sizeof(*o.c));
			o.nc = 1;
			pod_cri_apply_status(&o.c[0], cs->status);
		}
	} else if (m->descriptor ==
	    &runtime__v1__pod_sandbox_status_response__descriptor) {
		ss = (const void *)m;
		if (ss->status != NULL) {
			o.sb = calloc(1, sizeof(*o.sb));
			o.nsb = 1;
			pod_cri_apply_sandbox_status(&o.sb[0], ss->status);
			o.sb[0].have_status = 1;
		}
	}
	fuzz_status(&o);
	pod_observed_clear(&o);
}

/*
 * Encodes a decoded message to its packed size and decodes that again.
 * It may not decode: protobuf-c keeps unknown fields as they came, and
 * one it took in a long form (field 0 as the two bytes 80 00) it writes
 * back in a short form it refuses (corpus file
 * list-sandboxes-unknown-field-0); edgesite never sends a reply back.
 */
static void
fuzz_roundtrip(const ProtobufCMessage *m)
{
	ProtobufCMessage	*again;
	uint8_t			*buf;
	size_t			 n;

	n = protobuf_c_message_get_packed_size(m);
	if ((buf = malloc(n != 0 ? n : 1)) == NULL)
		abort();
	if (protobuf_c_message_pack(m, buf) != n)
		abort();
	if ((again = protobuf_c_message_unpack(m->descriptor, NULL, n,
	    buf)) != NULL)
		protobuf_c_message_free_unpacked(again, NULL);
	free(buf);
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
	ProtobufCMessage	*m;

	if (size < 1)
		return 0;
	m = protobuf_c_message_unpack(fuzz_replies[data[0] % FUZZ_NREPLIES],
	    NULL, size - 1, data + 1);
	if (m == NULL)
		return 0;
	fuzz_observe(m);
	fuzz_roundtrip(m);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
