/* test-sched.c - the scheduling policy (daemon/sched.h): remaining chains by atom count and
 * by measured time, critical-path pick against FIFO, the waves barrier, the cross-job
 * share weighted by priority. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "daemon/job.h"
#include "daemon/sched.h"
#include "format/doc.h"

/* a1 and b1 are ready at once (wave 1); a1 comes first in the document, so FIFO starts it
 * first, but b1 heads the longer chain b1 -> b2 -> b3 */
static const char dag_json[] =
        "{\"format\": 1, \"name\": \"t\", \"atoms\": ["
        "{\"id\": \"a1\", \"kind\": \"doc\", \"target\": \"README.md\", \"depends_on\": []},"
        "{\"id\": \"b1\", \"kind\": \"config\", \"target\": \"src/config.py\", \"depends_on\": []},"
        "{\"id\": \"b2\", \"kind\": \"config\", \"target\": \"src/b2.py\", \"depends_on\": [\"b1\"]},"
        "{\"id\": \"b3\", \"kind\": \"config\", \"target\": \"src/b3.py\", \"depends_on\": [\"b2\"]}]}";

enum { A1, B1, B2, B3 };

static struct dag *load_dag(void) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        struct dag *dag = NULL;
        ck_assert_int_eq(doc_parse_json(dag_json, strlen(dag_json), "t.json", &n, &d), 0);
        ck_assert_int_eq(dag_from_node(n, "t.json", &dag, &d), 0);
        ck_assert_int_eq(dag_check(dag, NULL, "t.json", 0, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        node_free(n);
        ck_assert_str_eq(dag->atoms[A1].id, "a1");
        ck_assert_str_eq(dag->atoms[B3].id, "b3");
        return dag;
}

START_TEST(test_chains_by_count) {
        struct dag *dag = load_dag();
        double *chain = NULL;
        ck_assert_int_eq(sched_chains(dag, NULL, &chain), 0);
        ck_assert(chain[A1] == 1 && chain[B1] == 3 && chain[B2] == 2 && chain[B3] == 1);
        free(chain);
        /* times that miss a kind of the DAG (doc) leave the count */
        struct sched_kind_times t = { 0 };
        sched_kind_times_add(&t, AK_CONFIG, 0.5);
        ck_assert_int_eq(sched_chains(dag, &t, &chain), 0);
        ck_assert(chain[B1] == 3 && chain[A1] == 1);
        free(chain);
        dag_free(dag);
}
END_TEST

START_TEST(test_pick_critical_path_not_fifo) {
        struct dag *dag = load_dag();
        struct atom_run runs[4] = { 0 };
        double *chain = NULL;
        ck_assert_int_eq(sched_chains(dag, NULL, &chain), 0);
        ck_assert_int_eq(sched_pick(dag, runs, NULL, SCHEDULE_DAG), A1);  /* FIFO */
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), B1); /* critical path */
        runs[B1].state = RUN_RUNNING;
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), A1);
        runs[B1].state = RUN_OK;
        /* b2 (chain 2) and a1 (chain 1) are ready: dag mode takes b2, waves mode must
         * finish wave 1 (a1) first */
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), B2);
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_WAVES), A1);
        runs[A1].state = RUN_RUNNING;
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), B2);
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_WAVES), -1);
        runs[A1].state = RUN_OK;
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_WAVES), B2);
        runs[B2].state = RUN_FAILED; /* a failed dependency: nothing is ready */
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), -1);
        free(chain);
        dag_free(dag);
}
END_TEST

START_TEST(test_chains_by_measured_time) {
        struct dag *dag = load_dag();
        struct sched_kind_times t = { 0 };
        sched_kind_times_add(&t, AK_DOC, 8.0);
        sched_kind_times_add(&t, AK_DOC, 12.0); /* mean 10 s */
        sched_kind_times_add(&t, AK_CONFIG, 0.1);
        double *chain = NULL;
        ck_assert_int_eq(sched_chains(dag, &t, &chain), 0);
        ck_assert(chain[A1] > 9.99 && chain[A1] < 10.01);
        ck_assert(chain[B1] > 0.29 && chain[B1] < 0.31);
        struct atom_run runs[4] = { 0 };
        /* the slow doc atom now heads the longest chain in seconds */
        ck_assert_int_eq(sched_pick(dag, runs, chain, SCHEDULE_DAG), A1);
        free(chain);
        dag_free(dag);
}
END_TEST

START_TEST(test_pick_by_free_slot) {
        struct dag *dag = load_dag();
        struct atom_run runs[4] = { 0 };
        double *chain = NULL;
        ck_assert_int_eq(sched_chains(dag, NULL, &chain), 0);
        runs[B1].model = true; /* b1 waits on a model, a1 does not */
        ck_assert_int_eq(sched_pick_in(dag, runs, chain, SCHEDULE_DAG, SCHED_SLOT_CPU | SCHED_SLOT_MODEL), B1);
        /* no model slot free: the CPU atom starts, though its chain is shorter */
        ck_assert_int_eq(sched_pick_in(dag, runs, chain, SCHEDULE_DAG, SCHED_SLOT_CPU), A1);
        /* no CPU slot free: only the model atom may start */
        runs[B1].model = false;
        runs[A1].model = true;
        ck_assert_int_eq(sched_pick_in(dag, runs, chain, SCHEDULE_DAG, SCHED_SLOT_MODEL), A1);
        ck_assert_int_eq(sched_pick_in(dag, runs, chain, SCHEDULE_DAG, 0), -1);
        runs[A1].state = RUN_RUNNING;
        ck_assert_int_eq(sched_pick_in(dag, runs, chain, SCHEDULE_DAG, SCHED_SLOT_MODEL), -1);
        free(chain);
        dag_free(dag);
}
END_TEST

START_TEST(test_share) {
        struct sched_share big = { .running = 2, .started = 900, .priority = 1 };
        struct sched_share small = { .running = 0, .started = 0, .priority = 1 };
        ck_assert(sched_share_before(&small, &big));
        ck_assert(!sched_share_before(&big, &small));
        /* equal running: the one that started fewer atoms per priority */
        big.running = small.running = 1;
        ck_assert(sched_share_before(&small, &big));
        /* priority 3 earns three slots for one */
        struct sched_share hi = { .running = 2, .started = 10, .priority = 3 };
        struct sched_share lo = { .running = 1, .started = 10, .priority = 1 };
        ck_assert(sched_share_before(&hi, &lo));
        hi.running = 3;
        ck_assert(sched_share_before(&hi, &lo)); /* 10 started for 3 against 10 for 1 */
        hi.started = 30;
        ck_assert(!sched_share_before(&hi, &lo));
        ck_assert(!sched_share_before(&lo, &hi)); /* a tie: the caller keeps the older */
        ck_assert(!sched_share_before(&lo, &lo));
}
END_TEST

START_TEST(test_mode_names) {
        ck_assert_int_eq(schedule_mode_from_name("dag"), SCHEDULE_DAG);
        ck_assert_int_eq(schedule_mode_from_name("waves"), SCHEDULE_WAVES);
        ck_assert_int_eq(schedule_mode_from_name("Waves"), -EINVAL);
        ck_assert_int_eq(schedule_mode_from_name(NULL), -EINVAL);
        ck_assert_str_eq(schedule_mode_name(SCHEDULE_WAVES), "waves");
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("sched");
        TCase *tc = tcase_create("sched");
        tcase_add_test(tc, test_chains_by_count);
        tcase_add_test(tc, test_pick_critical_path_not_fifo);
        tcase_add_test(tc, test_chains_by_measured_time);
        tcase_add_test(tc, test_pick_by_free_slot);
        tcase_add_test(tc, test_share);
        tcase_add_test(tc, test_mode_names);
        suite_add_tcase(s, tc);
        return s;
}
