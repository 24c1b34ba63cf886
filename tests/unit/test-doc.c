/* test-doc.c - YAML/JSON parsing with positions and refusals, loading, and emitting. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "format/doc.h"
#include "shared/fs.h"
#include "shared/macro.h"

/* Asserts that d holds exactly this diagnostic (path NULL: any path); prints d if not. */
#define assert_diag(d, line, column, path, message)                                        \
        ck_assert_msg(has_diag(d, line, column, path, message),                          \
                      "missing diagnostic %u:%u %s: %s; have:\n%s", line, column,           \
                      path ? path : "*", message, diags_text(d))

static const char *diags_text(const struct diags *d) {
        static char buf[8192];
        FILE *f = fmemopen(buf, sizeof(buf), "w");
        if (!f)
                return "";
        diags_print(d, f);
        fclose(f);
        return buf;
}

static bool has_diag(const struct diags *d, unsigned line, unsigned column, const char *path,
                     const char *message) {
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *g = &d->v[i];
                if (g->line == line && g->column == column && streq(g->message, message) &&
                    (!path || streq_ptr(g->path, path)))
                        return true;
        }
        return false;
}

static int yaml(const char *s, struct node **ret, struct diags *d) {
        return doc_parse_yaml(s, strlen(s), "t.yaml", ret, d);
}

static int json(const char *s, struct node **ret, struct diags *d) {
        return doc_parse_json(s, strlen(s), "t.json", ret, d);
}

/* One failing parse: the result, a single diagnostic, checked. */
static void yaml_fails(const char *s, unsigned line, unsigned column, const char *path,
                       const char *message) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        ck_assert_int_eq(yaml(s, &n, &d), -EINVAL);
        ck_assert_ptr_null(n);
        assert_diag(&d, line, column, path, message);
        ck_assert_str_eq(d.v[0].file, "t.yaml");
        diags_clear(&d);
}

static void json_fails(const char *s, unsigned line, unsigned column, const char *path,
                       const char *message) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        ck_assert_int_eq(json(s, &n, &d), -EINVAL);
        ck_assert_ptr_null(n);
        assert_diag(&d, line, column, path, message);
        diags_clear(&d);
}

/* Same meaning: kinds, texts and (for scalars) the type a reader sees. */
static bool node_equal(const struct node *a, const struct node *b) {
        if (node_is_null(a) || node_is_null(b))
                return node_is_null(a) && node_is_null(b);
        if (a->kind != b->kind || a->n != b->n)
                return false;
        if (a->kind == NODE_SCALAR)
                return streq(a->value, b->value) && streq(node_kind_name(a), node_kind_name(b));
        for (size_t i = 0; i < a->n; i++) {
                if (a->kind == NODE_MAP && !streq(a->keys[i]->value, b->keys[i]->value))
                        return false;
                if (!node_equal(a->items[i], b->items[i]))
                        return false;
        }
        return true;
}

START_TEST(test_yaml_positions_and_scalars) {
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *n = NULL;
        const char *src = "# comment\n"
                          "name: demo\n"
                          "list:\n"
                          "  - 1\n"
                          "  - \"two\"\n"
                          "  - {a: ~, b: 'x'}\n"
                          "empty:\n"
                          "nul: null\n"
                          "q: \"null\"\n"
                          "tagged: !!str 12\n"
                          "text: |\n"
                          "  line one\n"
                          "  line two\n";
        ck_assert_int_eq(yaml(src, &n, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_int_eq(n->kind, NODE_MAP);
        ck_assert_uint_eq(n->line, 2);
        ck_assert_uint_eq(n->column, 1);
        ck_assert_uint_eq(n->n, 7);

        ck_assert_str_eq(n->keys[0]->value, "name");
        ck_assert_uint_eq(n->keys[0]->line, 2);
        ck_assert_uint_eq(n->keys[0]->column, 1);
        const struct node *v = node_get(n, "name");
        ck_assert_str_eq(v->value, "demo");
        ck_assert(!v->quoted);
        ck_assert_uint_eq(v->line, 2);
        ck_assert_uint_eq(v->column, 7);

        const struct node *l = node_get(n, "list");
        ck_assert_int_eq(l->kind, NODE_SEQ);
        ck_assert_uint_eq(l->n, 3);
        ck_assert_uint_eq(l->items[0]->line, 4);
        ck_assert_uint_eq(l->items[0]->column, 5);
        ck_assert(!l->items[0]->quoted);
        ck_assert(l->items[1]->quoted);
        ck_assert_str_eq(l->items[1]->value, "two");
        const struct node *m = l->items[2];
        ck_assert_int_eq(m->kind, NODE_MAP);
        ck_assert_uint_eq(m->line, 6);
        ck_assert_uint_eq(m->column, 5);
        ck_assert_uint_eq(m->keys[1]->line, 6);
        ck_assert_uint_eq(m->keys[1]->column, 12);
        ck_assert_int_eq(node_get(m, "a")->kind, NODE_NULL);
        ck_assert(node_get(m, "b")->quoted);

        ck_assert_int_eq(node_get(n, "empty")->kind, NODE_NULL);
        ck_assert_uint_eq(node_get(n, "empty")->line, 7);
        ck_assert_int_eq(node_get(n, "nul")->kind, NODE_NULL);
        ck_assert_int_eq(node_get(n, "q")->kind, NODE_SCALAR);
        ck_assert(node_get(n, "q")->quoted);
        ck_assert(node_get(n, "tagged")->quoted);
        ck_assert(node_is_string(node_get(n, "tagged")));
        ck_assert_str_eq(node_get(n, "text")->value, "line one\nline two\n");
        diags_clear(&d);
}
END_TEST

START_TEST(test_yaml_refusals) {
        yaml_fails("a: &x 1\nb: 2\n", 1, 4, "a", "anchors are not supported");
        yaml_fails("a: 1\nb: *x\n", 2, 4, "b", "aliases are not supported");
        yaml_fails("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", 5, 3, "b.c", "duplicate key 'c'");
        yaml_fails("list:\n  - {x: 1}\n  - {x: 1, y: 2, x: 3}\n", 3, 18, "list[1].x",
                   "duplicate key 'x'");
        yaml_fails("? [a, b]\n: c\n", 1, 3, "", "mapping keys must be scalars");
        yaml_fails("a: 1\n---\nb: 2\n", 2, 1, NULL, "more than one document");
        yaml_fails("", 1, 1, NULL, "empty document");
        yaml_fails("a: !foo x\n", 1, 4, "a", "unsupported tag '!foo'");
}
END_TEST

START_TEST(test_yaml_duplicates_all_reported) {
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        ck_assert_int_eq(yaml("a: 1\nb: 2\na: 3\nb: 4\na: 5\n", &n, &d), -EINVAL);
        ck_assert_uint_eq(d.n, 3);
        assert_diag(&d, 3, 1, "a", "duplicate key 'a'");
        assert_diag(&d, 5, 1, "a", "duplicate key 'a'");
        assert_diag(&d, 4, 1, "b", "duplicate key 'b'");
        diags_clear(&d);
}
END_TEST

START_TEST(test_yaml_depth) {
        char buf[512];
        struct diags d = DIAGS_INIT;
        /* 64 nested flow sequences are fine, 65 are not */
        for (int depth = 64; depth <= 65; depth++) {
                struct node *n = NULL;
                memset(buf, '[', (size_t) depth);
                memset(buf + depth, ']', (size_t) depth);
                buf[2 * depth] = '\0';
                int r = yaml(buf, &n, &d);
                if (depth == 64) {
                        ck_assert_int_eq(r, 0);
                        node_free(n);
                } else {
                        ck_assert_int_eq(r, -EINVAL);
                        ck_assert_ptr_null(n);
                        ck_assert_uint_eq(d.n, 1);
                        ck_assert_str_eq(d.v[0].message, "nesting deeper than 64 levels");
                        ck_assert_uint_eq(d.v[0].line, 1);
                        ck_assert_uint_eq(d.v[0].column, 65);
                }
        }
        diags_clear(&d);
}
END_TEST

START_TEST(test_yaml_libyaml_errors) {
        /* a tab where indentation is expected */
        yaml_fails("a:\n\t- b\n", 2, 1, NULL,
                   "while scanning for the next token: found character that cannot start any token");
        yaml_fails("a: [1, 2\nb: 3\n", 2, 2, NULL,
                   "while parsing a flow sequence: did not find expected ',' or ']'");
        /* invalid UTF-8: libyaml reports a byte offset, we give line:column */
        yaml_fails("a: 1\nname: ab\xff\n", 2, 9, NULL, "invalid leading UTF-8 octet (0xFF)");
        yaml_fails("x: \xc3\xa9\xc3\x28\n", 1, 6, NULL, "invalid trailing UTF-8 octet (0x28)");
}
END_TEST

START_TEST(test_json_parse) {
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *n = NULL;
        const char *src = "{\n"
                          "  \"s\": \"text\",\n"
                          "  \"n\": [1, 2.50, -0.5, 1e3, 12345678901],\n"
                          "  \"b\": true, \"f\": false, \"z\": null,\n"
                          "  \"o\": {\"k\": \"\\u00e9\\n\"}\n"
                          "}\n";
        ck_assert_int_eq(json(src, &n, &d), 0);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_uint_eq(n->line, 1);
        ck_assert_uint_eq(n->column, 1);
        const struct node *s = node_get(n, "s");
        ck_assert(s->quoted);
        ck_assert_str_eq(s->value, "text");
        ck_assert_uint_eq(s->line, 2);
        ck_assert_uint_eq(s->column, 8);
        ck_assert_uint_eq(n->keys[0]->line, 2);
        ck_assert_uint_eq(n->keys[0]->column, 3);

        const struct node *a = node_get(n, "n");
        static const char *const texts[] = { "1", "2.5", "-0.5", "1000", "12345678901" };
        for (size_t i = 0; i < 5; i++) {
                ck_assert_str_eq(a->items[i]->value, texts[i]);
                ck_assert(!a->items[i]->quoted);
                ck_assert_uint_eq(a->items[i]->line, 3);
        }
        ck_assert_uint_eq(a->items[1]->column, 12);
        ck_assert_uint_eq(a->items[4]->column, 29);

        bool b;
        ck_assert_int_eq(node_as_bool(node_get(n, "b"), &b), 0);
        ck_assert(b);
        ck_assert_int_eq(node_as_bool(node_get(n, "f"), &b), 0);
        ck_assert(!b);
        ck_assert_int_eq(node_get(n, "z")->kind, NODE_NULL);
        ck_assert_uint_eq(node_get(n, "z")->column, 31);
        const struct node *o = node_get(n, "o");
        ck_assert_uint_eq(o->line, 5);
        ck_assert_uint_eq(o->column, 8);
        ck_assert_str_eq(node_get(o, "k")->value, "\xc3\xa9\n");
        ck_assert_uint_eq(node_get(o, "k")->column, 14);
        diags_clear(&d);
}
END_TEST

START_TEST(test_json_errors) {
        json_fails("{\"a\": 1,\n \"b\": tru}\n", 2, 7, NULL, "invalid JSON near 'tru}'");
        json_fails("{\"a\": [1, 2\n", 2, 1, NULL, "invalid JSON: unexpected end of input");
        json_fails("{\"a\": \"unterminated", 1, 20, NULL, "invalid JSON: unexpected end of input");
        json_fails("{\"a\": 1} {\"b\": 2}", 1, 10, NULL, "invalid JSON near '{\"b\": 2}'");
        json_fails("{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2}}", 2, 16, "b.c", "duplicate key 'c'");
        json_fails("{\"a\": \"\xe2\x82\"}", 1, 8, NULL, "invalid UTF-8 (byte 0xE2)");
        json_fails("  \n", 1, 1, NULL, "empty document");
        json_fails("{\"a\": 1,}", 1, 9, NULL, "invalid JSON near '}'");

        char buf[256];
        memset(buf, '[', 65);
        memset(buf + 65, ']', 65);
        buf[130] = '\0';
        json_fails(buf, 1, 65, NULL, "nesting deeper than 64 levels");
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;
        buf[129] = '\0';
        ck_assert_int_eq(json(buf + 1, &n, &d), 0); /* 64 levels are fine */
        ck_assert_uint_eq(d.n, 0);
        node_free(n);
}
END_TEST

static char *write_tmp(const char *dir, const char *name, const char *data, size_t len) {
        char *p = path_join(dir, name);
        ck_assert_int_eq(write_file_atomic(p, data, len, 0644), 0);
        return p;
}

START_TEST(test_load) {
        char *dir = test_tmpdir();
        struct diags d = DIAGS_INIT;
        struct node *n = NULL;

        _cleanup_free_ char *y = write_tmp(dir, "a.yaml", "k: [1]\n", 7);
        ck_assert_int_eq(doc_load(y, "a.yaml", 100, &n, &d), 0);
        ck_assert_int_eq(node_get(n, "k")->kind, NODE_SEQ);
        node_free(TAKE_PTR(n));

        /* by extension: this text is valid YAML but not JSON */
        _cleanup_free_ char *j = write_tmp(dir, "a.json", "k: [1]\n", 7);
        ck_assert_int_eq(doc_load(j, "a.json", 100, &n, &d), -EINVAL);
        assert_diag(&d, 1, 1, NULL, "invalid JSON near 'k: [1]'");
        diags_clear(&d);
        _cleanup_free_ char *j2 = write_tmp(dir, "b.json", "{\"k\": [1]}", 10);
        ck_assert_int_eq(doc_load(j2, "b.json", 100, &n, &d), 0);
        ck_assert_str_eq(node_get(n, "k")->items[0]->value, "1");
        node_free(TAKE_PTR(n));

        ck_assert_int_eq(doc_load(y, "a.yaml", 6, &n, &d), -EINVAL);
        assert_diag(&d, 0, 0, NULL, "file is larger than 6 bytes");
        ck_assert_str_eq(d.v[0].file, "a.yaml");
        diags_clear(&d);

        _cleanup_free_ char *bin = write_tmp(dir, "bin.yaml", "a: 1\nb: x\0y\n", 12);
        ck_assert_int_eq(doc_load(bin, "bin.yaml", 100, &n, &d), -EINVAL);
        assert_diag(&d, 2, 5, NULL, "binary data");
        diags_clear(&d);

        ck_assert_int_eq(doc_load(dir, "dir", 100, &n, &d), -EINVAL);
        assert_diag(&d, 0, 0, NULL, "not a regular file");
        diags_clear(&d);

        _cleanup_free_ char *link = path_join(dir, "link.yaml");
        ck_assert_int_eq(symlink(y, link), 0);
        ck_assert_int_eq(doc_load(link, "link.yaml", 100, &n, &d), -EINVAL);
        assert_diag(&d, 0, 0, NULL, "file is a symbolic link");
        diags_clear(&d);

        _cleanup_free_ char *missing = path_join(dir, "missing.yaml");
        ck_assert_int_eq(doc_load(missing, "missing.yaml", 100, &n, &d), -ENOENT);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_ptr_null(n);

        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
}
END_TEST

static struct node *round_trip_tree(void) {
        static const char *const strings[] = {
                "true", "false", "null", "~", "1.0", "42", "-3", "1e3", "0x1F", "yes", "No",
                "", " ", "a: b", "- x", "#c", "x #c", "[a]", "{a}", "'q'", "\"dq\"", "@at",
                " leading", "trailing ", "multi\nline\ntext\n", "no newline at end\nx",
                "ends with two newlines\n\n", "\ttab", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac",
                "back\\slash", "colon:in", "%percent", "*star", "&amp", "!bang", "|pipe",
                ">gt", "...", "---", "=", "<<",
        };
        struct node *root = node_new_map(), *s = node_new_seq(), *m = node_new_map();
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                ck_assert_int_eq(node_seq_append(s, node_new_string(strings[i])), 0);
                ck_assert_int_eq(node_map_set(m, strings[i], node_new_string(strings[i])), 0);
        }
        ck_assert_int_eq(node_map_set(root, "strings", s), 0);
        ck_assert_int_eq(node_map_set(root, "as keys", m), 0);
        ck_assert_int_eq(node_map_set(root, "int", node_new_int(7)), 0);
        ck_assert_int_eq(node_map_set(root, "float", node_new_scalar("2.5", false)), 0);
        ck_assert_int_eq(node_map_set_bool(root, "bool", true), 0);
        ck_assert_int_eq(node_map_set(root, "nothing", node_new_null()), 0);
        ck_assert_int_eq(node_map_set(root, "empty map", node_new_map()), 0);
        ck_assert_int_eq(node_map_set(root, "empty seq", node_new_seq()), 0);
        struct node *deep = node_new_seq(), *inner = node_new_map();
        ck_assert_int_eq(node_map_set(inner, "k", node_new_seq()), 0);
        ck_assert_int_eq(node_seq_append(deep, inner), 0);
        ck_assert_int_eq(node_seq_append(deep, node_new_seq()), 0);
        ck_assert_int_eq(node_map_set(root, "deep", deep), 0);
        return root;
}

START_TEST(test_emit_yaml_round_trip) {
        _cleanup_node_ struct node *root = round_trip_tree();
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        ck_assert_int_eq(doc_emit_yaml(root, &out), 0);
        const char *y = strbuf_str(&out);
        /* strings that would read back as something else are double-quoted */
        ck_assert_ptr_nonnull(strstr(y, "- \"true\"\n"));
        ck_assert_ptr_nonnull(strstr(y, "- \"1.0\"\n"));
        ck_assert_ptr_nonnull(strstr(y, "- \"\"\n"));
        ck_assert_ptr_nonnull(strstr(y, "- \"yes\"\n"));
        ck_assert_ptr_nonnull(strstr(y, "int: 7\n"));
        ck_assert_ptr_nonnull(strstr(y, "bool: true\n"));
        ck_assert_ptr_nonnull(strstr(y, "nothing: null\n"));
        ck_assert_ptr_nonnull(strstr(y, "empty map: {}\n"));
        ck_assert_ptr_nonnull(strstr(y, "empty seq: []\n"));
        /* unicode stays readable, long lines are not folded */
        ck_assert_ptr_nonnull(strstr(y, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac"));

        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *back = NULL;
        ck_assert_msg(doc_parse_yaml(y, out.len, "out.yaml", &back, &d) == 0, "%s\n%s", y,
                      diags_text(&d));
        ck_assert_msg(node_equal(root, back), "%s", y);
        /* quoted strings come back as strings */
        const struct node *s = node_get(back, "strings");
        for (size_t i = 0; i < s->n; i++)
                ck_assert_msg(node_is_string(s->items[i]) || streq(s->items[i]->value, ""),
                              "%s", s->items[i]->value);
        diags_clear(&d);
}
END_TEST

START_TEST(test_emit_yaml_reference_spec) {
        _cleanup_free_ char *path = path_join(test_srcdir(), "spool-example/taskmanager/spec.yaml");
        struct diags d = DIAGS_INIT;
        _cleanup_node_ struct node *n = NULL, *back = NULL;
        ck_assert_int_eq(doc_load(path, "spec.yaml", 1 << 20, &n, &d), 0);
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        ck_assert_int_eq(doc_emit_yaml(n, &out), 0);
        ck_assert_int_eq(doc_parse_yaml(out.buf, out.len, "out.yaml", &back, &d), 0);
        ck_assert(node_equal(n, back));
        /* and through JSON as well */
        strbuf_reset(&out);
        ck_assert_int_eq(doc_emit_json(n, &out), 0);
        node_free(TAKE_PTR(back));
        ck_assert_int_eq(doc_parse_json(out.buf, out.len, "out.json", &back, &d), 0);
        ck_assert(node_equal(n, back));
        diags_clear(&d);
}
END_TEST

START_TEST(test_emit_json) {
        _cleanup_node_ struct node *root = node_new_map();
        struct node *a = node_new_seq();
        ck_assert_int_eq(node_map_set_string(root, "z", "first"), 0);
        ck_assert_int_eq(node_map_set(root, "a", a), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_scalar("1.0", false)), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_scalar("+5", false)), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_string("1")), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_scalar("True", false)), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_scalar("~", false)), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_null()), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_scalar("yes", false)), 0);
        ck_assert_int_eq(node_seq_append(a, node_new_string("q\"\\\n\xc3\xa9")), 0);
        ck_assert_int_eq(node_map_set(root, "e", node_new_map()), 0);
        ck_assert_int_eq(node_map_set(root, "l", node_new_seq()), 0);
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        ck_assert_int_eq(doc_emit_json(root, &out), 0);
        ck_assert_str_eq(strbuf_str(&out), "{\n"
                                           "  \"z\": \"first\",\n"
                                           "  \"a\": [\n"
                                           "    1.0,\n"
                                           "    5,\n"
                                           "    \"1\",\n"
                                           "    true,\n"
                                           "    null,\n"
                                           "    null,\n"
                                           "    \"yes\",\n"
                                           "    \"q\\\"\\\\\\n\xc3\xa9\"\n"
                                           "  ],\n"
                                           "  \"e\": {},\n"
                                           "  \"l\": []\n"
                                           "}\n");
        /* a bounded buffer refuses, and is left as it was */
        struct strbuf small;
        strbuf_init(&small, 16);
        ck_assert_int_eq(strbuf_adds(&small, "x"), 0);
        ck_assert_int_eq(doc_emit_json(root, &small), -E2BIG);
        ck_assert_str_eq(strbuf_str(&small), "x");
        ck_assert_int_eq(doc_emit_yaml(root, &small), -E2BIG);
        ck_assert_str_eq(strbuf_str(&small), "x");
        strbuf_free(&small);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("doc");
        TCase *tc = tcase_create("doc");
        tcase_add_test(tc, test_yaml_positions_and_scalars);
        tcase_add_test(tc, test_yaml_refusals);
        tcase_add_test(tc, test_yaml_duplicates_all_reported);
        tcase_add_test(tc, test_yaml_depth);
        tcase_add_test(tc, test_yaml_libyaml_errors);
        tcase_add_test(tc, test_json_parse);
        tcase_add_test(tc, test_json_errors);
        tcase_add_test(tc, test_load);
        tcase_add_test(tc, test_emit_yaml_round_trip);
        tcase_add_test(tc, test_emit_yaml_reference_spec);
        tcase_add_test(tc, test_emit_json);
        suite_add_tcase(s, tc);
        return s;
}
