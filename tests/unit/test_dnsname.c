/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The name rules, with the good and bad values of Kubernetes' own tests of
 * IsDNS1123Label and IsDNS1123Subdomain, plus the store-key segment rule.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/dnsname.h"
#include "unit.h"

/* n copies of c in a static buffer. */
static const char *
repeat(char c, size_t n)
{
	static char	buf[512];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* Checks rule against every value of good (true) and bad (false). */
static void
check_values(int (*rule)(const char *), const char *name,
    const char *const *good, const char *const *bad)
{
	size_t	i;

	for (i = 0; good[i] != NULL; i++) {
		if (!rule(good[i]))
			fprintf(stderr, "%s: \"%s\" refused\n", name, good[i]);
		CHECK(rule(good[i]));
	}
	for (i = 0; bad[i] != NULL; i++) {
		if (rule(bad[i]))
			fprintf(stderr, "%s: \"%s\" taken\n", name, bad[i]);
		CHECK(!rule(bad[i]));
	}
}

static void
test_label(void)
{
	static const char *const good[] = {
		"a", "ab", "abc", "a1", "a-1", "a--1--2--b",
		"0", "01", "012", "1a", "1-a", "1--a--b--2", NULL
	};
	static const char *const bad[] = {
		"", "A", "ABC", "aBc", "A1", "A-1", "1-A",
		"-", "a-", "-a", "1-", "-1",
		"_", "a_", "_a", "a_b", "1_", "_1", "1_2",
		".", "a.", ".a", "a.b", "1.", ".1", "1.2",
		" ", "a ", " a", "a b", "1 ", " 1", "1 2", NULL
	};

	check_values(dnsname_label, "label", good, bad);
	CHECK(dnsname_label(repeat('a', 63)));
	CHECK(!dnsname_label(repeat('a', 64)));
	CHECK(!dnsname_label(NULL));
}

static void
test_subdomain(void)
{
	static const char *const good[] = {
		"a", "ab", "abc", "a1", "a-1", "a--1--2--b",
		"0", "01", "012", "1a", "1-a", "1--a--b--2",
		"a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a",
		"a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1",
		"0.a", "01.a", "012.a", "1a.a", "1-a.a", "1--a--b--2",
		"0.1", "01.1", "012.1", "1a.1", "1-a.1", "1--a--b--2.1",
		"a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55",
		NULL
	};
	static const char *const bad[] = {
		"", "A", "ABC", "aBc", "A1", "A-1", "1-A",
		"-", "a-", "-a", "1-", "-1",
		"_", "a_", "_a", "a_b", "1_", "_1", "1_2",
		".", "a.", ".a", "a..b", "1.", ".1", "1..2",
		" ", "a ", " a", "a b", "1 ", " 1", "1 2",
		"A.a", "aB.a", "ab.A", "A1.a", "a1.A",
		"A.1", "aB.1", "A1.1", "1A.1",
		"0.A", "01.A", "012.A", "1A.a", "1a.A",
		"A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee",
		"a@b", "a,b", "a_b", "a;b",
		"a:b", "a%b", "a?b", "a$b",
		"a-.b", "a.-b", "..", "a/b", NULL
	};

	check_values(dnsname_subdomain, "subdomain", good, bad);
	/* the whole is limited, not each label */
	CHECK(dnsname_subdomain(repeat('a', 253)));
	CHECK(!dnsname_subdomain(repeat('a', 254)));
	CHECK(!dnsname_subdomain(NULL));
}

static void
test_segment(void)
{
	static const char *const good[] = {
		"a", "A", "kube-system", "system:node", "My_Config.v2",
		"...", ".a", "a.", "-", "0", NULL
	};
	static const char *const bad[] = {
		"", ".", "..", "a/b", "/", "a%2Fb", "a b", "a\tb", "a\nb",
		"ä", "a?b", "a#b", "a\\b", NULL
	};

	check_values(dnsname_segment, "segment", good, bad);
	CHECK(dnsname_segment(repeat('Z', 253)));
	CHECK(!dnsname_segment(repeat('Z', 254)));
	CHECK(!dnsname_segment(NULL));
}

int
main(void)
{
	unit_init();
	test_label();
	test_subdomain();
	test_segment();
	return unit_done();
}
