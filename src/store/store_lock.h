/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state directory lock: dir/edgesite.lock held with flock() for the
 * life of the store, holding the owner's pid, so a second edgesite on the
 * same directory is refused with a message naming the first.
 */
#ifndef EDGESITE_STORE_LOCK_H
#define EDGESITE_STORE_LOCK_H

/* File name of the lock inside the state directory. */
#define STORE_LOCK_FILE	"edgesite.lock"

/*
 * Takes the lock on dir and writes our pid into it. Returns the lock's
 * descriptor, or -1 with a message in *errstr (static storage).
 */
int	 store_lock_take(const char *dir, const char **errstr);
/* Releases a lock from store_lock_take; accepts -1. */
void	 store_lock_release(int fd);

#endif
