/* lease.h - who holds a claimed job, and whether that holder is still alive: what lets
 * several daemons (on one host or on several hosts sharing the spool over NFS) share one
 * spool without a global lock (docs/reliability.md section 6).
 *
 * A daemon instance is its host name (gethostname(), or $CODEGEND_HOST), its "boot" (the
 * kernel's boot id and pid namespace: within one, a pid names one process) and its pid. A
 * job directory's name says who holds it:
 *
 *   CLAIMKEY-HOST-BOOT-PID-N[+STATE]    e.g. 20261127T180102.123456789Z-web1-3f2a9c1d-4711-7
 *
 * CLAIMKEY is the claim time (UTC, sortable: jobs of one name are ordered by it), N a
 * counter, STATE "ending" (its owner is publishing or failing it) or "superseded" (a newer
 * job of its name ended first: garbage). A takeover renames the directory to the taker's
 * name with the same CLAIMKEY. Names without HOST and BOOT ("CLAIMKEY-PID-N") are an older
 * version's, which only ran alone on a spool.
 *
 * JOBDIR/lease is renewed by the holder every lease_seconds/3 (written beside, renamed
 * over). Its mtime, not its content, is what others judge by, against the mtime of a file
 * they touch themselves (the spool's clock: the NFS server's, so the hosts' clocks may
 * differ). Functions return 0 or a negative errno and never log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define INSTANCE_HOST_MAX 64
#define INSTANCE_BOOT_LEN 8
#define JOBID_KEY_LEN 26 /* "YYYYmmddTHHMMSS.nnnnnnnnnZ" */

struct instance {
        char host[INSTANCE_HOST_MAX + 1]; /* [A-Za-z0-9._-] only */
        char boot[INSTANCE_BOOT_LEN + 1]; /* this boot and pid namespace: where pids mean something */
        pid_t pid;
        struct timespec booted; /* when this boot began (CLOCK_REALTIME) */
};

/* This process: $CODEGEND_HOST or gethostname(); 8 hex digits of a hash of the kernel's
 * boot id and the pid namespace (/proc/self/ns/pid), or the first 8 hex digits of
 * $CODEGEND_BOOT_ID (tests); getpid(); when this boot began. */
int instance_init(struct instance *ret);
/* The owner tag of self's temporary files (fs_set_tmp_tag()): 8 hex digits of a hash of
 * HOST-BOOT, short enough for the longest job names. buf: at least 9 bytes. */
void instance_tag(const struct instance *self, char buf[static 9]);

enum jobdir_state { JOBDIR_ACTIVE, JOBDIR_ENDING, JOBDIR_SUPERSEDED };

struct jobid {
        char key[JOBID_KEY_LEN + 1];
        bool legacy; /* an older version's name: no host, no boot id */
        char host[INSTANCE_HOST_MAX + 1];
        char boot[INSTANCE_BOOT_LEN + 1];
        long pid;
        enum jobdir_state state;
};

/* Parses a job directory's name; -EINVAL when it is none. */
int jobid_parse(const char *name, struct jobid *ret);
/* KEY-HOST-BOOT-PID-N into buf; -ENAMETOOLONG. */
int jobid_format(const char *key, const struct instance *self, unsigned n, char *buf, size_t size);
/* The claim key of the time ts ("YYYYmmddTHHMMSS.nnnnnnnnnZ") into buf (>= 27 bytes). */
int jobid_key(const struct timespec *ts, char *buf, size_t size);
/* Order of claim: by key, then by name (strcmp-style). */
int jobid_compare(const char *a, const char *b);
/* The length of NAME without its "+STATE" suffix. */
size_t jobid_base_len(const char *name);

struct lease {
        char host[INSTANCE_HOST_MAX + 1];
        char boot[INSTANCE_BOOT_LEN + 1];
        long pid;
        int64_t renewed;   /* the holder's clock, for people: judge by mtime */
        unsigned seconds;  /* lease_seconds of the holder */
        struct timespec mtime;
};

/* The lease's text: "host: H\nboot: B\npid: P\nrenewed: T\nlease_seconds: S\n". */
int lease_format(const struct instance *self, int64_t now, unsigned seconds, char *buf, size_t size);
/* -EINVAL when a line is missing or malformed. */
int lease_parse(const char *text, struct lease *ret);
/* Writes (or renews) JOBDIR/lease: -ENOENT when the directory is gone (taken over or
 * superseded by another daemon). Not fsynced: a lease only matters while its holder runs. */
int lease_write(const char *jobdir, const struct instance *self, unsigned seconds);
/* Reads JOBDIR/lease with its mtime; -ENOENT when there is none. */
int lease_read(const char *jobdir, struct lease *ret);

/* Whether a lease renewed at `renewed` has expired at `now` (both from the spool's clock,
 * the mtimes of files on it): more than seconds + grace have passed. A lease from the
 * future (a skewed writer without a server clock) counts as fresh. */
bool lease_expired(const struct timespec *renewed, const struct timespec *now, unsigned seconds,
                   unsigned grace);

/* Whether the job directory named id may be taken by self: never when it is self's own
 * (in memory); at once when it is an older version's (legacy), or held by a dead process
 * of this host and boot (pid_alive false), or by this host in another boot with a lease
 * renewed before this boot began; otherwise when its lease (or, with none, the
 * directory's mtime: `renewed`) expired. Another host or container that shares the host
 * name is therefore never taken from early, only by expiry. */
bool lease_takeable(const struct jobid *id, const struct instance *self, bool pid_alive,
                    const struct timespec *renewed, const struct timespec *now, unsigned seconds,
                    unsigned grace);

/* kill(pid, 0): false only when no such process exists. */
bool pid_is_alive(long pid);
