/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pause: the process that holds a pod sandbox's namespaces. It does
 * nothing but wait: SIGTERM and SIGINT end it (exit 0), SIGCHLD reaps
 * whatever children are orphaned into it when it is the namespace's init.
 * Built static (gcc -static) so the image needs no libc; see
 * contrib/images/build-images.sh.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAUSE_VERSION	"edgesite-pause 1.0"

/* SIGTERM, SIGINT: leave at once. */
static void
pause_stop(int sig)
{
	_exit(0);
}

/* SIGCHLD: reap every child that has exited. */
static void
pause_reap(int sig)
{
	int	saved = errno;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	errno = saved;
}

int
main(int argc, char *argv[])
{
	struct sigaction	sa;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		printf("%s\n", PAUSE_VERSION);
		return 0;
	}
	if (getpid() != 1)
		fprintf(stderr, "pause: warning: not pid 1, orphans will not "
		    "be reaped here\n");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = pause_stop;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return 1;
	sa.sa_handler = pause_reap;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		return 2;
	for (;;)
		pause();
	/* NOTREACHED */
	return 42;
}
