/* test-lease.c - job directory names, lease files and the expiry and takeover rules that
 * let several daemons share a spool (lease.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check-main.h"
#include "daemon/lease.h"
#include "shared/fs.h"
#include "shared/macro.h"

static struct instance self_a(void) {
        struct instance i = { .pid = 4242, .booted = { .tv_sec = 500 } };
        strcpy(i.host, "web-1.example");
        strcpy(i.boot, "0123abcd");
        return i;
}

START_TEST(instance_from_environment) {
        struct instance i;
        ck_assert_int_eq(setenv("CODEGEND_HOST", "node 7/x", 1), 0);
        ck_assert_int_eq(setenv("CODEGEND_BOOT_ID", "3f2a9c1d-0000-4000-8000-000000000000", 1), 0);
        ck_assert_int_eq(instance_init(&i), 0);
        ck_assert_str_eq(i.host, "node_7_x"); /* only [A-Za-z0-9._-] reach a file name */
        ck_assert_str_eq(i.boot, "3f2a9c1d");
        ck_assert_int_eq(i.pid, getpid());
        struct timespec rt;
        ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &rt), 0);
        ck_assert_int_le(i.booted.tv_sec, rt.tv_sec);
        ck_assert_int_gt(i.booted.tv_sec, 0);
        ck_assert_int_eq(setenv("CODEGEND_BOOT_ID", "xyz", 1), 0);
        ck_assert_int_eq(instance_init(&i), -EINVAL);
        ck_assert_int_eq(unsetenv("CODEGEND_BOOT_ID"), 0);
        ck_assert_int_eq(unsetenv("CODEGEND_HOST"), 0);
        ck_assert_int_eq(instance_init(&i), 0); /* the real host and boot id */
        ck_assert_uint_eq(strlen(i.boot), INSTANCE_BOOT_LEN);

        char t1[9], t2[9];
        struct instance a = self_a(), b = self_a();
        strcpy(b.host, "web-2.example");
        instance_tag(&a, t1);
        instance_tag(&b, t2);
        ck_assert_uint_eq(strlen(t1), 8);
        ck_assert_str_ne(t1, t2);
        ck_assert_int_eq(fs_set_tmp_tag(t1), 0);
        ck_assert_str_eq(fs_tmp_tag(), t1);
        ck_assert_int_eq(fs_set_tmp_tag("Bad.Tag"), -EINVAL);
        ck_assert_int_eq(fs_set_tmp_tag("123456789"), -ENAMETOOLONG);
        ck_assert_int_eq(fs_set_tmp_tag(""), 0);
}
END_TEST

START_TEST(jobid_round_trip) {
        struct instance a = self_a();
        struct timespec ts = { .tv_sec = 1764266462, .tv_nsec = 123456789 };
        char key[JOBID_KEY_LEN + 1], name[256];
        ck_assert_int_eq(jobid_key(&ts, key, sizeof(key)), 0);
        ck_assert_str_eq(key, "20251127T180102.123456789Z");
        ck_assert_int_eq(jobid_format(key, &a, 7, name, sizeof(name)), 0);
        ck_assert_str_eq(name, "20251127T180102.123456789Z-web-1.example-0123abcd-4242-7");

        struct jobid id;
        ck_assert_int_eq(jobid_parse(name, &id), 0);
        ck_assert(!id.legacy);
        ck_assert_str_eq(id.key, key);
        ck_assert_str_eq(id.host, "web-1.example");
        ck_assert_str_eq(id.boot, "0123abcd");
        ck_assert_int_eq(id.pid, 4242);
        ck_assert_int_eq(id.state, JOBDIR_ACTIVE);

        char ending[300];
        snprintf(ending, sizeof(ending), "%s+ending", name);
        ck_assert_int_eq(jobid_parse(ending, &id), 0);
        ck_assert_int_eq(id.state, JOBDIR_ENDING);
        ck_assert_str_eq(id.host, "web-1.example");
        ck_assert_uint_eq(jobid_base_len(ending), strlen(name));
        snprintf(ending, sizeof(ending), "%s+superseded", name);
        ck_assert_int_eq(jobid_parse(ending, &id), 0);
        ck_assert_int_eq(id.state, JOBDIR_SUPERSEDED);

        /* an older version's name: claim key, pid, counter */
        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-1-0", &id), 0);
        ck_assert(id.legacy);
        ck_assert_int_eq(id.pid, 1);

        static const char *const bad[] = {
                "", "lease", "20260101T000000.000000000Z", "20260101T000000.000000000Z-1",
                "20260101X000000.000000000Z-1-0", "20260101T000000.000000000Z-h-0123abcd-1-0+done",
                "20260101T000000.000000000Z-h-0123abcX-1-0", "20260101T000000.000000000Z--0123abcd-1-0",
                "20260101T000000.000000000Z-h/x-0123abcd-1-0", "20260101T000000.000000000Z-h-0123abcd-x-0",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(jobid_parse(bad[i], &id) == -EINVAL, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(jobid_claim_order) {
        /* claim key first, whoever holds the job (a takeover keeps the key) */
        ck_assert_int_lt(jobid_compare("20260101T000000.000000001Z-zeta-0123abcd-9-0",
                                       "20260101T000000.000000002Z-alpha-0123abcd-1-0"), 0);
        ck_assert_int_gt(jobid_compare("20260101T000001.000000000Z-1-0",
                                       "20260101T000000.999999999Z-host-0123abcd-1-0+ending"), 0);
        ck_assert_int_ne(jobid_compare("20260101T000000.000000001Z-a-0123abcd-9-0",
                                       "20260101T000000.000000001Z-b-0123abcd-9-0"), 0);
}
END_TEST

START_TEST(lease_text) {
        struct instance a = self_a();
        char buf[512];
        struct lease l;
        ck_assert_int_eq(lease_format(&a, 1764266462, 30, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "host: web-1.example\nboot: 0123abcd\npid: 4242\nrenewed: 1764266462\nlease_seconds: 30\n");
        ck_assert_int_eq(lease_parse(buf, &l), 0);
        ck_assert_str_eq(l.host, "web-1.example");
        ck_assert_str_eq(l.boot, "0123abcd");
        ck_assert_int_eq(l.pid, 4242);
        ck_assert_int_eq(l.renewed, 1764266462);
        ck_assert_uint_eq(l.seconds, 30);
        /* a later version's extra keys are ignored */
        ck_assert_int_eq(lease_parse("host: h\nboot: 0123abcd\npid: 1\nrenewed: 0\nlease_seconds: 2\nx-new: y\n", &l), 0);

        static const char *const bad[] = {
                "",
                "host: h\nboot: 0123abcd\npid: 1\nrenewed: 0\n",                       /* a key missing */
                "host: h\nboot: 0123abc\npid: 1\nrenewed: 0\nlease_seconds: 2\n",      /* short boot id */
                "host: h/x\nboot: 0123abcd\npid: 1\nrenewed: 0\nlease_seconds: 2\n",   /* a slash */
                "host: h\nboot: 0123abcd\npid: -1\nrenewed: 0\nlease_seconds: 2\n",    /* pid */
                "host: h\nboot: 0123abcd\npid: 1\nrenewed: soon\nlease_seconds: 2\n",  /* time */
                "host: h\nboot: 0123abcd\npid: 1\nrenewed: 0\nlease_seconds: 0\n",     /* no lease */
                "host h\nboot: 0123abcd\npid: 1\nrenewed: 0\nlease_seconds: 2\n",      /* no colon */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(lease_parse(bad[i], &l) == -EINVAL, "accepted case %zu", i);
}
END_TEST

START_TEST(lease_file) {
        _cleanup_free_ char *tmp = test_tmpdir(), *job = path_join(tmp, "job"), *path = path_join(job, "lease");
        struct instance a = self_a();
        struct lease l;
        ck_assert_int_eq(lease_read(job, &l), -ENOENT);
        ck_assert_int_eq(lease_write(job, &a, 30), -ENOENT); /* the directory is gone: taken */
        ck_assert_int_eq(mkdir(job, 0755), 0);
        ck_assert_int_eq(lease_read(job, &l), -ENOENT);
        ck_assert_int_eq(lease_write(job, &a, 30), 0);
        ck_assert_int_eq(lease_read(job, &l), 0);
        ck_assert_str_eq(l.host, "web-1.example");
        ck_assert_uint_eq(l.seconds, 30);

        /* renewal moves the file's mtime, which is what others judge by */
        struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
        ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
        ck_assert_int_eq(lease_read(job, &l), 0);
        ck_assert_int_eq(l.mtime.tv_sec, 1000);
        ck_assert_int_eq(lease_write(job, &a, 30), 0);
        ck_assert_int_eq(lease_read(job, &l), 0);
        ck_assert_int_gt(l.mtime.tv_sec, 1000);

        ck_assert_int_eq(write_file_atomic(path, "host: h\0x", 9, 0644), 0);
        ck_assert_int_eq(lease_read(job, &l), -EINVAL); /* a NUL byte */
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(lease_read(job, &l), -EINVAL); /* not a regular file */
        ck_assert_int_eq(rm_rf(tmp), 0);
}
END_TEST

START_TEST(expiry) {
        struct timespec renewed = { .tv_sec = 1000, .tv_nsec = 500 };
        struct timespec now = { .tv_sec = 1040, .tv_nsec = 500 };
        ck_assert(!lease_expired(&renewed, &now, 30, 10)); /* exactly lease + grace */
        now.tv_nsec = 501;
        ck_assert(lease_expired(&renewed, &now, 30, 10));
        now = (struct timespec) { .tv_sec = 1039, .tv_nsec = 999999999 };
        ck_assert(!lease_expired(&renewed, &now, 30, 10));
        ck_assert(lease_expired(&renewed, &now, 30, 0));
        /* a lease from the future (the holder's writes are timed by a clock ahead of ours):
         * fresh, never expired early */
        now = (struct timespec) { .tv_sec = 900 };
        ck_assert(!lease_expired(&renewed, &now, 1, 0));
}
END_TEST

START_TEST(takeable) {
        struct instance self = self_a();
        struct timespec fresh = { .tv_sec = 1000 }, stale = { .tv_sec = 900 }, now = { .tv_sec = 1001 };
        struct jobid id;

        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-7-0", &id), 0);
        ck_assert(lease_takeable(&id, &self, true, &fresh, &now, 30, 30)); /* an older version's */

        /* this host, this boot */
        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-web-1.example-0123abcd-4242-0", &id), 0);
        ck_assert(!lease_takeable(&id, &self, true, &stale, &now, 30, 30)); /* our own */
        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-web-1.example-0123abcd-77-0", &id), 0);
        ck_assert(lease_takeable(&id, &self, false, &fresh, &now, 30, 30));  /* dead: at once */
        ck_assert(!lease_takeable(&id, &self, true, &fresh, &now, 30, 30));  /* alive */
        ck_assert(lease_takeable(&id, &self, true, &stale, &now, 30, 30));   /* pid reused? lease */
        /* this host name, another boot: over when its lease is older than this boot (a
         * fresh one is another host or container of the same name: its lease decides) */
        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-web-1.example-ffffffff-4242-0", &id), 0);
        struct timespec before_boot = { .tv_sec = 499, .tv_nsec = 999999999 };
        ck_assert(lease_takeable(&id, &self, true, &before_boot, &now, 30, 30));
        ck_assert(lease_takeable(&id, &self, false, &before_boot, &now, 30, 30));
        ck_assert(!lease_takeable(&id, &self, false, &fresh, &now, 30, 30)); /* its pids are not ours */
        ck_assert(lease_takeable(&id, &self, false, &stale, &now, 30, 30));
        /* another host: its lease only */
        ck_assert_int_eq(jobid_parse("20260101T000000.000000000Z-web-2.example-0123abcd-4242-0+ending", &id), 0);
        ck_assert(!lease_takeable(&id, &self, true, &fresh, &now, 30, 30));
        ck_assert(!lease_takeable(&id, &self, false, &fresh, &now, 30, 30)); /* its pids are not ours */
        ck_assert(lease_takeable(&id, &self, true, &stale, &now, 30, 30));
        ck_assert(!lease_takeable(&id, &self, true, &stale, &now, 30, 100));

        ck_assert(pid_is_alive(getpid()));
        ck_assert(!pid_is_alive(999999999));
        ck_assert(!pid_is_alive(0));
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("lease");
        TCase *tc = tcase_create("lease");
        tcase_add_test(tc, instance_from_environment);
        tcase_add_test(tc, jobid_round_trip);
        tcase_add_test(tc, jobid_claim_order);
        tcase_add_test(tc, lease_text);
        tcase_add_test(tc, lease_file);
        tcase_add_test(tc, expiry);
        tcase_add_test(tc, takeable);
        suite_add_tcase(s, tc);
        return s;
}
