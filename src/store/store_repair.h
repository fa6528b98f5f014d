/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `edgesite --repair`: LevelDB's repair of the store, then an account of
 * what it kept and lost per key family, and every reflector marked to list
 * again so the apiserver restores what it owns.
 */
#ifndef EDGESITE_STORE_REPAIR_H
#define EDGESITE_STORE_REPAIR_H

/*
 * Repairs the store under the state directory dir (edgesite must not be
 * running on it) and reports through the log. 0 when the store opens
 * after the repair, -1 when it does not or the repair failed.
 */
int	 store_repair(const char *dir);

#endif
