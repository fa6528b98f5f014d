/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Damage found while running (store_damage.h): LevelDB's error texts told
 * apart and the damaged file found in them; one log line per file however
 * often it is met, the store degraded on the first damage. And the
 * loopback test of the operator's warnings (conf_warn.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/conf_warn.h"
#include "core/health.h"
#include "store/store_damage.h"
#include "unit.h"

static void
test_is_corruption(void)
{
	CHECK(store_damage_is_corruption("Corruption: block checksum "
	    "mismatch"));
	CHECK(store_damage_is_corruption("Corruption: checksum mismatch"));
	CHECK(!store_damage_is_corruption("IO error: /s/000005.ldb: No space "
	    "left on device"));
	CHECK(!store_damage_is_corruption("Invalid argument: /s: does not "
	    "exist (create_if_missing is false)"));
	CHECK(!store_damage_is_corruption(""));
}

/* The file named in a LevelDB error, by its base name. */
static void
test_file(void)
{
	char	buf[64];

	CHECK_STR(store_damage_file("Corruption: block checksum mismatch: "
	    "/var/lib/edgesite/store/000005.ldb", buf, sizeof(buf)),
	    "000005.ldb");
	CHECK_STR(store_damage_file("Corruption: bad entry in block: "
	    "000012.sst, offset 4", buf, sizeof(buf)), "000012.sst");
	CHECK_STR(store_damage_file("Corruption: /s/MANIFEST-000004: no "
	    "meta-nextfile entry", buf, sizeof(buf)), "MANIFEST-000004");
	CHECK_STR(store_damage_file("Corruption: CURRENT file does not end "
	    "with newline", buf, sizeof(buf)), "CURRENT");
	CHECK_STR(store_damage_file("Corruption: block checksum mismatch",
	    buf, sizeof(buf)), "");
	/* a name that does not fit is no name */
	CHECK_STR(store_damage_file("Corruption: x: /s/000000000005.ldb", buf,
	    8), "");
	CHECK_STR(store_damage_file("", buf, sizeof(buf)), "");
	CHECK_STR(store_damage_file("::: , ", buf, sizeof(buf)), "");
}

static const char *store_state_detail;

static void
store_state_cb(const char *name, enum health_state st, const char *detail,
    void *arg)
{
	enum health_state	*out = arg;

	if (strcmp(name, "store") == 0) {
		*out = st;
		store_state_detail = detail;
	}
}

static enum health_state
store_state(void)
{
	enum health_state	st = HEALTH_DOWN;

	health_foreach(store_state_cb, &st);
	return st;
}

/* Counted every time, remembered once per file, degraded from the first. */
static void
test_corruption(void)
{
	struct store_damage	d;

	memset(&d, 0, sizeof(d));
	health_set("store", HEALTH_OK, "/s");
	CHECK(!store_damage_found(&d));
	store_damage_corruption(&d, "get", "Corruption: block checksum "
	    "mismatch: /s/store/000005.ldb");
	CHECK(store_damage_found(&d));
	CHECK(store_state() == HEALTH_DEGRADED);
	CHECK_STR(store_state_detail, "damaged: 000005.ldb; run edgesite "
	    "--repair");
	store_damage_corruption(&d, "scan", "Corruption: block checksum "
	    "mismatch: /s/store/000005.ldb");
	store_damage_corruption(&d, "scan", "Corruption: block checksum "
	    "mismatch");
	store_damage_corruption(&d, "scan", "Corruption: block checksum "
	    "mismatch");
	CHECK(d.corruptions == 4);
	CHECK(d.nfiles == 2);
	/* the first damage stays the one named */
	CHECK_STR(store_state_detail, "damaged: 000005.ldb; run edgesite "
	    "--repair");
	store_damage_value(&d, "o/pods/ns/p", 10, "bad checksum");
	CHECK(d.values == 1);
	store_damage_clear(&d);
	CHECK(d.nfiles == 0);
	health_clear();
}

/* More files than remembered: counted, never over the table. */
static void
test_many_files(void)
{
	struct store_damage	d;
	char			err[128];
	int			i;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < STORE_DAMAGE_FILES * 2; i++) {
		snprintf(err, sizeof(err), "Corruption: x: /s/%06d.ldb", i);
		store_damage_corruption(&d, "get", err);
	}
	CHECK(d.nfiles == STORE_DAMAGE_FILES);
	CHECK(d.corruptions == STORE_DAMAGE_FILES * 2);
	store_damage_clear(&d);
	health_clear();
}

static void
test_loopback(void)
{
	CHECK(conf_warn_loopback("tcp://127.0.0.1:1884"));
	CHECK(conf_warn_loopback("127.0.0.2:1884"));
	CHECK(conf_warn_loopback("[::1]:1884"));
	CHECK(conf_warn_loopback("ssl://[::1]:8883"));
	CHECK(!conf_warn_loopback("tcp://0.0.0.0:1884"));
	CHECK(!conf_warn_loopback("[::]:1884"));
	CHECK(!conf_warn_loopback("192.0.2.1:1884"));
	CHECK(!conf_warn_loopback(":1884"));
	CHECK(!conf_warn_loopback("tcp://*:1884"));
	CHECK(!conf_warn_loopback("1884"));
}

int
main(void)
{
	test_is_corruption();
	test_file();
	test_corruption();
	test_many_files();
	test_loopback();
	return unit_done();
}
