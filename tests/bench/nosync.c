/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nosync: an LD_PRELOAD shim that makes fsync and fdatasync return at
 * once without syncing. bench_durability.py runs the same edgesite (and
 * bench_outbox) with and without it: the durability policy's cost is the
 * difference. Never use it outside the benchmark: with it nothing
 * edgesite acknowledges survives a power loss.
 *
 * Built by the script: cc -shared -fPIC -o nosync.so nosync.c
 */
int	fsync(int);
int	fdatasync(int);

int
fsync(int fd)
{
	(void)fd;
	return 0;
}

int
fdatasync(int fd)
{
	(void)fd;
	return 0;
}
