/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the store found damaged while running: LevelDB files a corruption
 * error names (each logged once) and values that failed their check
 * (logged up to a limit, then only counted). Either makes the store part
 * of /readyz degraded; it stays so until edgesite restarts on a store that
 * reads clean, i.e. after `edgesite --repair`: a damaged block does not
 * heal, and a read that happens to miss it proves nothing.
 */
#ifndef EDGESITE_STORE_DAMAGE_H
#define EDGESITE_STORE_DAMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Damaged files remembered by name; more are counted, not logged. */
#define STORE_DAMAGE_FILES	16
/* Damaged values logged one by one; more are counted. */
#define STORE_DAMAGE_VALUES_LOGGED	32

struct store_damage {
	char		*files[STORE_DAMAGE_FILES];
	size_t		 nfiles;
	uint64_t	 corruptions;	/* LevelDB corruption errors */
	uint64_t	 values;	/* values that failed their check */
};

/* 1 when a LevelDB error text reports corruption (not I/O, not space). */
int	 store_damage_is_corruption(const char *err);
/*
 * The base name of the file a LevelDB error text names (a table, log,
 * manifest or CURRENT) into buf; "" when it names none.
 */
const char *store_damage_file(const char *err, char *buf, size_t len);
/*
 * A corruption error met by what ("get", "scan", ...): counted, logged
 * the first time its file is named (or, naming none, its text is seen),
 * and the store degraded.
 */
void	 store_damage_corruption(struct store_damage *, const char *what,
	    const char *err);
/* A value that failed its check: counted, logged, the store degraded. */
void	 store_damage_value(struct store_damage *, const char *key,
	    size_t keylen, const char *why);
/* 1 once anything was found damaged. */
int	 store_damage_found(const struct store_damage *);
/* Forgets the names; accepts a zeroed struct. */
void	 store_damage_clear(struct store_damage *);

#endif
