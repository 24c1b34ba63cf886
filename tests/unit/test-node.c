/* test-node.c - the document tree: construction, lookup, YAML 1.2 core typing, copies. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "format/node.h"
#include "shared/macro.h"

START_TEST(test_constructors) {
        struct node *n = node_new_string("x");
        ck_assert_int_eq(n->kind, NODE_SCALAR);
        ck_assert(n->quoted);
        ck_assert_str_eq(n->value, "x");
        node_free(n);

        n = node_new_scalarn("abcdef", 3, false);
        ck_assert_str_eq(n->value, "abc");
        ck_assert(!n->quoted);
        node_free(n);

        n = node_new_bool(true);
        ck_assert_str_eq(n->value, "true");
        ck_assert(!n->quoted);
        node_free(n);

        n = node_new_int(-42);
        ck_assert_str_eq(n->value, "-42");
        long long v = 0;
        ck_assert_int_eq(node_as_int(n, &v), 0);
        ck_assert_int_eq(v, -42);
        node_free(n);

        n = node_new_null();
        ck_assert_int_eq(n->kind, NODE_NULL);
        ck_assert(node_is_null(n));
        node_free(n);
        node_free(NULL);
}
END_TEST

START_TEST(test_map_and_seq) {
        _cleanup_node_ struct node *m = node_new_map();
        for (int i = 0; i < 20; i++) {
                char k[16];
                snprintf(k, sizeof(k), "k%d", i);
                ck_assert_int_eq(node_map_set_int(m, k, i), 0);
        }
        ck_assert_uint_eq(m->n, 20);
        ck_assert_int_eq(node_key_index(m, "k0"), 0);
        ck_assert_int_eq(node_key_index(m, "k19"), 19);
        ck_assert_int_eq(node_key_index(m, "nope"), -1);
        ck_assert_str_eq(node_get(m, "k7")->value, "7");
        ck_assert_ptr_null(node_get(m, "nope"));
        ck_assert(m->keys[3]->quoted);

        ck_assert_int_eq(node_map_set_string(m, "s", "v"), 0);
        ck_assert(node_get(m, "s")->quoted);
        ck_assert_int_eq(node_map_set_string(m, "nul", NULL), 0);
        ck_assert_int_eq(node_get(m, "nul")->kind, NODE_NULL);
        ck_assert_int_eq(node_map_set_bool(m, "b", false), 0);
        bool b = true;
        ck_assert_int_eq(node_as_bool(node_get(m, "b"), &b), 0);
        ck_assert(!b);

        _cleanup_node_ struct node *s = node_new_seq();
        for (int i = 0; i < 9; i++)
                ck_assert_int_eq(node_seq_append(s, node_new_int(i)), 0);
        ck_assert_uint_eq(s->n, 9);
        ck_assert_str_eq(s->items[8]->value, "8");
        ck_assert_ptr_null(s->keys);
        /* lookups on a non-map are absent, not a crash */
        ck_assert_ptr_null(node_get(s, "x"));
        ck_assert_int_eq(node_key_index(s, "x"), -1);
        ck_assert_ptr_null(node_get(NULL, "x"));
}
END_TEST

START_TEST(test_ownership_on_failure) {
        /* children handed over are freed even when refused (ASan checks the leaks) */
        _cleanup_node_ struct node *s = node_new_seq();
        _cleanup_node_ struct node *m = node_new_map();
        ck_assert_int_lt(node_map_set(s, "k", node_new_string("v")), 0);
        ck_assert_int_lt(node_seq_append(m, node_new_string("v")), 0);
        ck_assert_int_lt(node_map_set_node(m, node_new_seq(), node_new_string("v")), 0);
        ck_assert_int_lt(node_map_set(m, "k", NULL), 0);
        ck_assert_int_lt(node_seq_append(s, NULL), 0);
        ck_assert_uint_eq(s->n, 0);
        ck_assert_uint_eq(m->n, 0);
}
END_TEST

static struct node *plain(const char *s) {
        return node_new_scalar(s, false);
}

START_TEST(test_null_and_bool) {
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
        for (size_t i = 0; i < ELEMENTSOF(nulls); i++) {
                _cleanup_node_ struct node *p = plain(nulls[i]);
                _cleanup_node_ struct node *q = node_new_string(nulls[i]);
                ck_assert_msg(node_is_null(p), "%s", nulls[i]);
                ck_assert(!node_is_null(q));
                ck_assert_str_eq(node_kind_name(p), "null");
                ck_assert_str_eq(node_kind_name(q), "string");
        }
        ck_assert(node_is_null(NULL));

        static const char *const trues[] = { "true", "True", "TRUE" };
        static const char *const falses[] = { "false", "False", "FALSE" };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_node_ struct node *t = plain(trues[i]), *f = plain(falses[i]);
                bool b = false;
                ck_assert_int_eq(node_as_bool(t, &b), 0);
                ck_assert(b);
                ck_assert_int_eq(node_as_bool(f, &b), 0);
                ck_assert(!b);
                ck_assert_str_eq(node_kind_name(t), "boolean");
        }
        /* YAML 1.1 words and quoted text are not booleans */
        static const char *const nots[] = { "yes", "no", "on", "off", "tRUE", "1" };
        for (size_t i = 0; i < ELEMENTSOF(nots); i++) {
                _cleanup_node_ struct node *p = plain(nots[i]);
                bool b = true;
                ck_assert_int_eq(node_as_bool(p, &b), -EINVAL);
                ck_assert(b);
        }
        _cleanup_node_ struct node *q = node_new_string("true");
        bool b;
        ck_assert_int_eq(node_as_bool(q, &b), -EINVAL);
        ck_assert_int_eq(node_as_bool(NULL, &b), -EINVAL);
        ck_assert(node_is_string(q));
}
END_TEST

START_TEST(test_int) {
        static const struct {
                const char *s;
                int r;
                long long v;
        } cases[] = {
                { "0", 0, 0 }, { "42", 0, 42 }, { "-7", 0, -7 }, { "+5", 0, 5 }, { "007", 0, 7 },
                { "9223372036854775807", 0, 9223372036854775807LL },
                { "9223372036854775808", -ERANGE, 0 }, { "", -EINVAL, 0 }, { "-", -EINVAL, 0 },
                { "1.0", -EINVAL, 0 }, { "1e3", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
                { " 1", -EINVAL, 0 }, { "12a", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_node_ struct node *p = plain(cases[i].s);
                long long v = 12345;
                ck_assert_msg(node_as_int(p, &v) == cases[i].r, "%s", cases[i].s);
                ck_assert_int_eq(v, cases[i].r == 0 ? cases[i].v : 12345);
        }
        _cleanup_node_ struct node *q = node_new_string("1");
        long long v;
        ck_assert_int_eq(node_as_int(q, &v), -EINVAL);
        _cleanup_node_ struct node *m = node_new_map();
        ck_assert_int_eq(node_as_int(m, &v), -EINVAL);
}
END_TEST

START_TEST(test_double) {
        static const struct {
                const char *s;
                int r;
                double v;
        } cases[] = {
                { "1", 0, 1 }, { "-2.5", 0, -2.5 }, { "+.5", 0, 0.5 }, { "1.", 0, 1 },
                { "1e3", 0, 1000 }, { "2.5E-1", 0, 0.25 }, { "1e999", -ERANGE, 0 },
                { "-1e999", -ERANGE, 0 }, { "1e-400", 0, 0 },
                { ".", -EINVAL, 0 }, { "e5", -EINVAL, 0 }, { "1e", -EINVAL, 0 },
                { "inf", -EINVAL, 0 }, { "nan", -EINVAL, 0 }, { ".inf", -EINVAL, 0 },
                { "1.2.3", -EINVAL, 0 }, { "0x1p3", -EINVAL, 0 }, { "", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_node_ struct node *p = plain(cases[i].s);
                double v = 99;
                ck_assert_msg(node_as_double(p, &v) == cases[i].r, "%s", cases[i].s);
                ck_assert_double_eq(v, cases[i].r == 0 ? cases[i].v : 99);
                ck_assert_str_eq(node_kind_name(p), cases[i].r == 0 ? "number"
                                                    : streq(cases[i].s, "") ? "null" : "string");
        }
        _cleanup_node_ struct node *q = node_new_string("1.5");
        double v;
        ck_assert_int_eq(node_as_double(q, &v), -EINVAL);
        ck_assert_str_eq(node_kind_name(q), "string");
}
END_TEST

START_TEST(test_is_string_and_kinds) {
        _cleanup_node_ struct node *a = plain("hello"), *b = plain("12"), *c = plain("true"),
                                   *d = node_new_string("12"), *m = node_new_map(),
                                   *s = node_new_seq();
        ck_assert(node_is_string(a));
        ck_assert(!node_is_string(b));
        ck_assert(!node_is_string(c));
        ck_assert(node_is_string(d));
        ck_assert(!node_is_string(m));
        ck_assert(!node_is_string(NULL));
        ck_assert_str_eq(node_kind_name(m), "mapping");
        ck_assert_str_eq(node_kind_name(s), "sequence");
        ck_assert_str_eq(node_kind_name(b), "number");
        ck_assert_str_eq(node_kind_name(NULL), "null");
}
END_TEST

START_TEST(test_dup) {
        _cleanup_node_ struct node *m = node_new_map();
        struct node *k = node_new_string("key");
        k->line = 3;
        k->column = 7;
        struct node *seq = node_new_seq();
        ck_assert_int_eq(node_seq_append(seq, node_new_scalar("1", false)), 0);
        ck_assert_int_eq(node_seq_append(seq, node_new_null()), 0);
        seq->line = 4;
        ck_assert_int_eq(node_map_set_node(m, k, seq), 0);
        ck_assert_int_eq(node_map_set_string(m, "q", "quoted"), 0);

        _cleanup_node_ struct node *c = node_dup(m);
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_ne(c, m);
        ck_assert_uint_eq(c->n, 2);
        ck_assert_str_eq(c->keys[0]->value, "key");
        ck_assert_uint_eq(c->keys[0]->line, 3);
        ck_assert_uint_eq(c->keys[0]->column, 7);
        ck_assert_uint_eq(c->items[0]->line, 4);
        ck_assert_int_eq(c->items[0]->kind, NODE_SEQ);
        ck_assert_uint_eq(c->items[0]->n, 2);
        ck_assert(!c->items[0]->items[0]->quoted);
        ck_assert_int_eq(c->items[0]->items[1]->kind, NODE_NULL);
        ck_assert(node_get(c, "q")->quoted);
        /* deep: changing the copy leaves the original alone */
        c->items[0]->items[0]->value[0] = '9';
        ck_assert_str_eq(m->items[0]->items[0]->value, "1");
        ck_assert_ptr_null(node_dup(NULL));
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("node");
        TCase *tc = tcase_create("node");
        tcase_add_test(tc, test_constructors);
        tcase_add_test(tc, test_map_and_seq);
        tcase_add_test(tc, test_ownership_on_failure);
        tcase_add_test(tc, test_null_and_bool);
        tcase_add_test(tc, test_int);
        tcase_add_test(tc, test_double);
        tcase_add_test(tc, test_is_string_and_kinds);
        tcase_add_test(tc, test_dup);
        suite_add_tcase(s, tc);
        return s;
}
