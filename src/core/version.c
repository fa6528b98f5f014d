/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Version: edgesite's own and, for -V and bug reports, the run-time versions
 * of each library it links, asked of the libraries themselves where they
 * can tell.
 */
#include "config.h"

#include <stdio.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <leveldb/c.h>
#include <mosquitto.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <protobuf-c/protobuf-c.h>

#include "core/version.h"
#include "core/yamldoc.h"

const char *
version_string(void)
{
	return PACKAGE_VERSION;
}

void
version_print(FILE *fp)
{
	nghttp2_info	*h2 = nghttp2_version(0);
	int		 mmaj, mmin, mrev;

	mosquitto_lib_version(&mmaj, &mmin, &mrev);
	fprintf(fp, "edgesite %s\n", version_string());
	fprintf(fp, "libevent %s\n", event_get_version());
	fprintf(fp, "libevhtp %s\n", EVHTP_VERSION);
	fprintf(fp, "cjson %s\n", cJSON_Version());
	fprintf(fp, "libyaml %s\n", yamldoc_version());
	fprintf(fp, "leveldb %d.%d\n", leveldb_major_version(),
	    leveldb_minor_version());
	fprintf(fp, "libmosquitto %d.%d.%d\n", mmaj, mmin, mrev);
	fprintf(fp, "openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(fp, "nghttp2 %s\n", h2->version_str);
	fprintf(fp, "protobuf-c %s\n", protobuf_c_version());
}
