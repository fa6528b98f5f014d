/* SPDX-License-Identifier: Apache-2.0 */
/*
 * systemd readiness notification without libsystemd: a datagram to the
 * socket named by NOTIFY_SOCKET.
 */
#ifndef EDGESITE_NOTIFY_H
#define EDGESITE_NOTIFY_H

/* Sends msg ("READY=1", "STOPPING=1", ...); 0 also when not under systemd. */
int	 notify_send(const char *msg);

#endif
