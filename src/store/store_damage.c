/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Damage found while running (store_damage.h): LevelDB's corruption errors
 * turned into one log line per damaged file, damaged values into a bounded
 * number of lines, both into counters for /metrics and into the store's
 * state on /readyz. LevelDB reports corruption in its text only
 * ("Corruption: block checksum mismatch: /var/lib/edgesite/store/
 * 000005.ldb"), so the text is what is read here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store_damage.h"

#define STORE_DAMAGE_PREFIX	"Corruption: "

int
store_damage_is_corruption(const char *err)
{
	return strncmp(err, STORE_DAMAGE_PREFIX,
	    strlen(STORE_DAMAGE_PREFIX)) == 0;
}

/* 1 when s ends with suffix. */
static int
store_damage_ends(const char *s, size_t len, const char *suffix)
{
	size_t	slen = strlen(suffix);

	return len > slen && memcmp(s + len - slen, suffix, slen) == 0;
}

/* 1 when the word of len bytes is the name of a LevelDB file. */
static int
store_damage_is_file(const char *w, size_t len)
{
	return store_damage_ends(w, len, ".ldb") ||
	    store_damage_ends(w, len, ".sst") ||
	    store_damage_ends(w, len, ".log") ||
	    (len > 9 && memcmp(w, "MANIFEST-", 9) == 0) ||
	    (len == 7 && memcmp(w, "CURRENT", 7) == 0);
}

/* Words are split at blanks, colons and commas; a path at its last '/'. */
const char *
store_damage_file(const char *err, char *buf, size_t len)
{
	const char	*p = err, *w, *base, *slash;
	size_t		 wlen;

	*buf = '\0';
	while (*p != '\0') {
		p += strspn(p, " :,");
		w = p;
		p += strcspn(p, " :,");
		for (base = w; (slash = memchr(base, '/', (size_t)(p -
		    base))) != NULL;)
			base = slash + 1;
		wlen = (size_t)(p - base);
		if (wlen > 0 && wlen < len && store_damage_is_file(base,
		    wlen)) {
			memcpy(buf, base, wlen);
			buf[wlen] = '\0';
			break;
		}
	}
	return buf;
}

/* 1 when the file was met before; else remembers it if there is room. */
static int
store_damage_seen(struct store_damage *d, const char *file)
{
	size_t	i;

	for (i = 0; i < d->nfiles; i++)
		if (strcmp(d->files[i], file) == 0)
			return 1;
	if (d->nfiles == STORE_DAMAGE_FILES)
		return 1;
	d->files[d->nfiles++] = xstrdup(file);
	return 0;
}

/* The store part of /readyz: degraded, naming the first damage found. */
static void
store_damage_degrade(struct store_damage *d, const char *what)
{
	char	*detail;

	if (d->corruptions + d->values > 1)
		return;
	xasprintf(&detail, "damaged: %s; run edgesite --repair", what);
	health_set("store", HEALTH_DEGRADED, detail);
	free(detail);
}

/*
 * LevelDB names the file in most corruption errors but not in all (1.23:
 * "block checksum mismatch" does not): an error naming none is told once
 * per distinct text instead.
 */
void
store_damage_corruption(struct store_damage *d, const char *what,
    const char *err)
{
	char		 file[128];
	const char	*id;

	d->corruptions++;
	store_damage_file(err, file, sizeof(file));
	id = *file != '\0' ? file : err + strlen(STORE_DAMAGE_PREFIX);
	store_damage_degrade(d, *file != '\0' ? file : id);
	if (store_damage_seen(d, id))
		return;
	log_warnx("store: %s: %s is damaged (%s); reads that meet it fail, "
	    "the store stays degraded until edgesite --repair", what,
	    *file != '\0' ? file : "a store file", err);
}

void
store_damage_value(struct store_damage *d, const char *key, size_t keylen,
    const char *why)
{
	char	ek[256];

	d->values++;
	log_escape(key, keylen, ek, sizeof(ek));
	store_damage_degrade(d, ek);
	if (d->values < STORE_DAMAGE_VALUES_LOGGED)
		log_warnx("store: %s: damaged value (%s), treating it as "
		    "absent", ek, why);
	else if (d->values == STORE_DAMAGE_VALUES_LOGGED)
		log_warnx("store: %s: damaged value (%s), treating it as "
		    "absent; further damaged values are only counted", ek,
		    why);
}

int
store_damage_found(const struct store_damage *d)
{
	return d->corruptions + d->values > 0;
}

void
store_damage_clear(struct store_damage *d)
{
	size_t	i;

	for (i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	d->nfiles = 0;
}
