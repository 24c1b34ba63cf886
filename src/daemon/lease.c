/* lease.c - daemon instances, job directory names and job leases; see lease.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lease.h"
#include "shared/fs.h"
#include "shared/macro.h"

#define LEASE_MAX 1024
#define STATE_ENDING "+ending"
#define STATE_SUPERSEDED "+superseded"

static bool host_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Copies a host name, characters outside [A-Za-z0-9._-] as '_', at most INSTANCE_HOST_MAX. */
static void host_copy(char *dst, const char *src) {
        size_t i = 0;
        for (; src[i] && i < INSTANCE_HOST_MAX; i++)
                dst[i] = host_char(src[i]) ? src[i] : '_';
        dst[i] = '\0';
}

int instance_init(struct instance *ret) {
        struct instance self = { .pid = getpid() };
        const char *host = getenv("CODEGEND_HOST");
        char buf[256];
        if (!host || !*host) {
                if (gethostname(buf, sizeof(buf)) < 0)
                        return -errno;
                buf[sizeof(buf) - 1] = '\0';
                host = buf;
        }
        host_copy(self.host, host);
        if (!self.host[0])
                return -EINVAL;

        const char *boot = getenv("CODEGEND_BOOT_ID");
        _cleanup_free_ char *text = NULL;
        char ns[64] = "";
        if (!boot || !*boot) {
                size_t len = 0;
                int r = read_file_bounded("/proc/sys/kernel/random/boot_id", 64, &text, &len);
                if (r < 0)
                        return r; /* the caller says: set CODEGEND_BOOT_ID (the unit does) */
                boot = text;
                /* pids mean something only inside one pid namespace: containers on one
                 * kernel are told apart (none readable: the boot id alone) */
                ssize_t k = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
                ns[k > 0 ? k : 0] = '\0';
        }
        size_t n = 0;
        for (const char *p = boot; *p && n < INSTANCE_BOOT_LEN; p++)
                if (is_hex(*p))
                        self.boot[n++] = *p;
        if (n < INSTANCE_BOOT_LEN)
                return -EINVAL;
        self.boot[n] = '\0';
        if (ns[0]) {
                uint32_t h = 2166136261u; /* FNV-1a over the whole boot id and the namespace */
                for (const char *p = boot; *p; p++)
                        h = (h ^ (uint8_t) *p) * 16777619u;
                for (const char *p = ns; *p; p++)
                        h = (h ^ (uint8_t) *p) * 16777619u;
                snprintf(self.boot, sizeof(self.boot), "%08x", (unsigned) h);
        }
        /* when this boot began, on the real-time clock */
        struct timespec rt, up;
        if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_BOOTTIME, &up) < 0)
                return -errno;
        self.booted.tv_sec = rt.tv_sec - up.tv_sec;
        self.booted.tv_nsec = rt.tv_nsec - up.tv_nsec;
        if (self.booted.tv_nsec < 0)
                self.booted.tv_sec--, self.booted.tv_nsec += 1000000000;
        *ret = self;
        return 0;
}

void instance_tag(const struct instance *self, char buf[static 9]) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = self->host; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ (uint8_t) '-') * 16777619u;
        for (const char *p = self->boot; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        snprintf(buf, 9, "%08x", (unsigned) h);
}

static bool key_valid(const char *k) {
        for (size_t i = 0; i < JOBID_KEY_LEN; i++) {
                char c = k[i];
                bool ok = i == 8 ? c == 'T' : i == 15 ? c == '.' : i == 25 ? c == 'Z' : c >= '0' && c <= '9';
                if (!ok)
                        return false;
        }
        return true;
}

/* Digits ending just before end (exclusive) and starting after a '-': their value, and
 * *start at the '-'; -EINVAL otherwise. */
static int field_digits(const char *s, size_t end, size_t *start, long *ret) {
        size_t i = end;
        while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
                i--;
        if (i == end || end - i > 18 || i == 0 || s[i - 1] != '-')
                return -EINVAL;
        long v = 0;
        for (size_t k = i; k < end; k++)
                v = v * 10 + (s[k] - '0');
        *start = i - 1;
        *ret = v;
        return 0;
}

size_t jobid_base_len(const char *name) {
        const char *plus = strchr(name, '+');
        return plus ? (size_t) (plus - name) : strlen(name);
}

int jobid_parse(const char *name, struct jobid *ret) {
        struct jobid id = { .state = JOBDIR_ACTIVE };
        size_t len = jobid_base_len(name);
        const char *state = name + len;
        if (streq(state, STATE_ENDING))
                id.state = JOBDIR_ENDING;
        else if (streq(state, STATE_SUPERSEDED))
                id.state = JOBDIR_SUPERSEDED;
        else if (*state)
                return -EINVAL;
        if (len < JOBID_KEY_LEN + 4 || !key_valid(name) || name[JOBID_KEY_LEN] != '-')
                return -EINVAL;
        memcpy(id.key, name, JOBID_KEY_LEN);

        size_t at;
        long n;
        if (field_digits(name, len, &at, &n) < 0 || field_digits(name, at, &at, &id.pid) < 0)
                return -EINVAL;
        if (at == JOBID_KEY_LEN) {
                id.legacy = true; /* KEY-PID-N */
                *ret = id;
                return 0;
        }
        /* KEY-HOST-BOOT-PID-N */
        if (at < JOBID_KEY_LEN + 1 + 1 + 1 + INSTANCE_BOOT_LEN || name[at - INSTANCE_BOOT_LEN - 1] != '-')
                return -EINVAL;
        size_t b = at - INSTANCE_BOOT_LEN;
        for (size_t i = b; i < at; i++)
                if (!is_hex(name[i]))
                        return -EINVAL;
        memcpy(id.boot, name + b, INSTANCE_BOOT_LEN);
        size_t h0 = JOBID_KEY_LEN + 1, h1 = b - 1;
        if (h1 <= h0 || h1 - h0 > INSTANCE_HOST_MAX)
                return -EINVAL;
        for (size_t i = h0; i < h1; i++)
                if (!host_char(name[i]))
                        return -EINVAL;
        memcpy(id.host, name + h0, h1 - h0);
        *ret = id;
        return 0;
}

int jobid_key(const struct timespec *ts, char *buf, size_t size) {
        struct tm tm;
        if (!gmtime_r(&ts->tv_sec, &tm))
                return -EOVERFLOW;
        int n = snprintf(buf, size, "%04d%02d%02dT%02d%02d%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
        return n != JOBID_KEY_LEN || (size_t) n >= size ? -EOVERFLOW : 0;
}

int jobid_format(const char *key, const struct instance *self, unsigned n, char *buf, size_t size) {
        int k = snprintf(buf, size, "%.*s-%s-%s-%ld-%u", JOBID_KEY_LEN, key, self->host, self->boot,
                         (long) self->pid, n);
        return k < 0 || (size_t) k >= size ? -ENAMETOOLONG : 0;
}

int jobid_compare(const char *a, const char *b) {
        int c = strncmp(a, b, JOBID_KEY_LEN);
        return c ? c : strcmp(a, b);
}

int lease_format(const struct instance *self, int64_t now, unsigned seconds, char *buf, size_t size) {
        int n = snprintf(buf, size, "host: %s\nboot: %s\npid: %ld\nrenewed: %lld\nlease_seconds: %u\n",
                         self->host, self->boot, (long) self->pid, (long long) now, seconds);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int lease_parse(const char *text, struct lease *ret) {
        struct lease l = { 0 };
        unsigned seen = 0;
        const char *p = text;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                char line[160];
                if (len >= sizeof(line))
                        return -EINVAL;
                memcpy(line, p, len);
                line[len] = '\0';
                p += len + (nl ? 1 : 0);
                char *colon = strstr(line, ": ");
                if (!colon)
                        return -EINVAL;
                *colon = '\0';
                const char *v = colon + 2;
                char *end = NULL;
                errno = 0;
                if (streq(line, "host")) {
                        if (!*v || strlen(v) > INSTANCE_HOST_MAX)
                                return -EINVAL;
                        for (const char *c = v; *c; c++)
                                if (!host_char(*c))
                                        return -EINVAL;
                        strcpy(l.host, v);
                        seen |= 1;
                } else if (streq(line, "boot")) {
                        if (strlen(v) != INSTANCE_BOOT_LEN)
                                return -EINVAL;
                        for (const char *c = v; *c; c++)
                                if (!is_hex(*c))
                                        return -EINVAL;
                        strcpy(l.boot, v);
                        seen |= 2;
                } else if (streq(line, "pid")) {
                        l.pid = strtol(v, &end, 10);
                        if (errno || end == v || *end || l.pid <= 0)
                                return -EINVAL;
                        seen |= 4;
                } else if (streq(line, "renewed")) {
                        l.renewed = strtoll(v, &end, 10);
                        if (errno || end == v || *end)
                                return -EINVAL;
                        seen |= 8;
                } else if (streq(line, "lease_seconds")) {
                        unsigned long s = strtoul(v, &end, 10);
                        if (errno || end == v || *end || *v == '-' || s == 0 || s > 86400)
                                return -EINVAL;
                        l.seconds = (unsigned) s;
                        seen |= 16;
                }
                /* unknown keys: a later version's, ignored */
        }
        if (seen != 31)
                return -EINVAL;
        *ret = l;
        return 0;
}

int lease_write(const char *jobdir, const struct instance *self, unsigned seconds) {
        char text[LEASE_MAX];
        _cleanup_free_ char *path = path_join(jobdir, "lease");
        if (!path)
                return -ENOMEM;
        int r = lease_format(self, (int64_t) time(NULL), seconds, text, sizeof(text));
        if (r < 0)
                return r;
        return write_file_atomic_volatile(path, text, strlen(text), 0644);
}

int lease_read(const char *jobdir, struct lease *ret) {
        _cleanup_free_ char *path = path_join(jobdir, "lease"), *text = NULL;
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        size_t len = 0;
        int r = read_fd_bounded(fd, LEASE_MAX, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return -EINVAL; /* a NUL byte */
        struct lease l;
        if ((r = lease_parse(text, &l)) < 0)
                return r;
        l.mtime = st.st_mtim;
        *ret = l;
        return 0;
}

bool lease_expired(const struct timespec *renewed, const struct timespec *now, unsigned seconds,
                   unsigned grace) {
        if (now->tv_sec < renewed->tv_sec)
                return false;
        int64_t age_ns = (int64_t) (now->tv_sec - renewed->tv_sec) * 1000000000 +
                         (int64_t) (now->tv_nsec - renewed->tv_nsec);
        return age_ns > ((int64_t) seconds + (int64_t) grace) * 1000000000;
}

bool lease_takeable(const struct jobid *id, const struct instance *self, bool pid_alive,
                    const struct timespec *renewed, const struct timespec *now, unsigned seconds,
                    unsigned grace) {
        if (id->legacy)
                return true;
        if (streq(id->host, self->host)) {
                /* renewed before this boot began: that boot of this host is over */
                if (!streq(id->boot, self->boot) &&
                    (renewed->tv_sec < self->booted.tv_sec ||
                     (renewed->tv_sec == self->booted.tv_sec && renewed->tv_nsec < self->booted.tv_nsec)))
                        return true;
                if (streq(id->boot, self->boot))
                        return id->pid == (long) self->pid ? false /* ours */
                               : !pid_alive || lease_expired(renewed, now, seconds, grace);
        }
        return lease_expired(renewed, now, seconds, grace);
}

bool pid_is_alive(long pid) {
        if (pid <= 0)
                return false;
        return kill((pid_t) pid, 0) == 0 || errno != ESRCH;
}
