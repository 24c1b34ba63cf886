/* test-template.c - the template engine: every construct, escaping, the standalone-line
 * rule, partials and their limits, and errors with template name and line. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "format/node.h"
#include "shared/strbuf.h"
#include "backend/template.h"

/* A loader over a NULL-terminated list of name/source pairs. */
static int table_loader(void *userdata, const char *name, char **ret, size_t *ret_len) {
        const char *const *t = userdata;
        for (; t && t[0]; t += 2)
                if (streq(t[0], name)) {
                        *ret = strdup(t[1]);
                        if (!*ret)
                                return -ENOMEM;
                        *ret_len = strlen(t[1]);
                        return 0;
                }
        return -ENOENT;
}

static const char *partials[] = {
        "greet", "Hello {{name}}!",
        "item", "- {{.}}\n",
        "block", "def f():\n    return {{value}}\n\npass\n",
        "self", "x{{>self}}",
        "broken", "line one\n{{#open}}\n",
        NULL,
};

/* Renders src with ctx; returns the output (or NULL) and sets *ret_r and *ret_error. */
static char *render(const char *src, const struct node *ctx, enum template_escape esc,
                    int *ret_r, char **ret_error) {
        struct template_env env = { .load = table_loader, .userdata = partials, .escape = esc };
        struct strbuf out;
        strbuf_init(&out, 1 << 20);
        *ret_error = NULL;
        *ret_r = template_render(&env, "t.tmpl", src, strlen(src), ctx, &out, ret_error);
        if (*ret_r < 0) {
                ck_assert_uint_eq(out.len, 0);
                strbuf_free(&out);
                return NULL;
        }
        return strbuf_detach(&out, NULL);
}

static void expect(const char *src, const struct node *ctx, enum template_escape esc,
                   const char *want) {
        int r;
        char *err = NULL;
        char *got = render(src, ctx, esc, &r, &err);
        ck_assert_msg(r == 0, "render of '%s' failed: %d %s", src, r, err ? err : "");
        ck_assert_str_eq(got, want);
        free(got);
        free(err);
}

static void expect_error(const char *src, const struct node *ctx, const char *want) {
        int r;
        char *err = NULL;
        char *got = render(src, ctx, TEMPLATE_ESC_NONE, &r, &err);
        ck_assert_ptr_null(got);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err, want);
        free(err);
}

static struct node *sample(void) {
        struct node *m = node_new_map();
        struct node *inner = node_new_map();
        struct node *deep = node_new_map();
        struct node *list = node_new_seq();
        struct node *people = node_new_seq();
        ck_assert_int_eq(node_map_set_string(m, "name", "World"), 0);
        ck_assert_int_eq(node_map_set_string(m, "html", "a\"b\\c\nd\te\x01"), 0);
        ck_assert_int_eq(node_map_set_string(deep, "c", "deep value"), 0);
        ck_assert_int_eq(node_map_set(inner, "b", deep), 0);
        ck_assert_int_eq(node_map_set_string(inner, "label", "inner label"), 0);
        ck_assert_int_eq(node_map_set(m, "a", inner), 0);
        ck_assert_int_eq(node_seq_append(list, node_new_string("x")), 0);
        ck_assert_int_eq(node_seq_append(list, node_new_string("y")), 0);
        ck_assert_int_eq(node_seq_append(list, node_new_string("z")), 0);
        ck_assert_int_eq(node_map_set(m, "list", list), 0);
        for (int i = 0; i < 2; i++) {
                struct node *p = node_new_map();
                ck_assert_int_eq(node_map_set_string(p, "who", i ? "Bob" : "Ann"), 0);
                ck_assert_int_eq(node_map_set_bool(p, "last", i == 1), 0);
                ck_assert_int_eq(node_seq_append(people, p), 0);
        }
        ck_assert_int_eq(node_map_set(m, "people", people), 0);
        ck_assert_int_eq(node_map_set_bool(m, "yes", true), 0);
        ck_assert_int_eq(node_map_set_bool(m, "no", false), 0);
        ck_assert_int_eq(node_map_set(m, "nothing", node_new_null()), 0);
        ck_assert_int_eq(node_map_set(m, "null_word", node_new_scalar("null", false)), 0);
        ck_assert_int_eq(node_map_set_string(m, "empty", ""), 0);
        ck_assert_int_eq(node_map_set_string(m, "quoted_false", "false"), 0);
        ck_assert_int_eq(node_map_set(m, "zero", node_new_int(0)), 0);
        ck_assert_int_eq(node_map_set(m, "empty_list", node_new_seq()), 0);
        ck_assert_int_eq(node_map_set(m, "empty_map", node_new_map()), 0);
        return m;
}

START_TEST(test_variables) {
        struct node *ctx = sample();
        expect("Hello {{name}}!", ctx, TEMPLATE_ESC_NONE, "Hello World!");
        expect("Hello {{ name }}!", ctx, TEMPLATE_ESC_NONE, "Hello World!");
        expect("{{a.b.c}}|{{a.label}}", ctx, TEMPLATE_ESC_NONE, "deep value|inner label");
        expect("[{{nothing}}]", ctx, TEMPLATE_ESC_NONE, "[]");
        expect("{{zero}} {{yes}} {{no}}", ctx, TEMPLATE_ESC_NONE, "0 true false");
        expect("no tags at all\n", ctx, TEMPLATE_ESC_NONE, "no tags at all\n");
        expect("", ctx, TEMPLATE_ESC_NONE, "");
        expect("a { b } {c} }}", ctx, TEMPLATE_ESC_NONE, "a { b } {c} }}");
        /* Python braces right next to a tag */
        expect("f\"{x}{{name}}\"", ctx, TEMPLATE_ESC_NONE, "f\"{x}World\"");
        node_free(ctx);
}
END_TEST

START_TEST(test_escaping) {
        struct node *ctx = sample();
        expect("\"{{html}}\"", ctx, TEMPLATE_ESC_PYTHON, "\"a\\\"b\\\\c\\nd\\te\\x01\"");
        expect("{{{html}}}", ctx, TEMPLATE_ESC_PYTHON, "a\"b\\c\nd\te\x01");
        expect("{{&html}}", ctx, TEMPLATE_ESC_PYTHON, "a\"b\\c\nd\te\x01");
        expect("{{& html }}", ctx, TEMPLATE_ESC_PYTHON, "a\"b\\c\nd\te\x01");
        expect("{{html}}", ctx, TEMPLATE_ESC_NONE, "a\"b\\c\nd\te\x01");
        /* UTF-8 passes through unchanged */
        struct node *u = node_new_map();
        ck_assert_int_eq(node_map_set_string(u, "s", "caf\xc3\xa9 \xe2\x82\xac"), 0);
        expect("{{s}}", u, TEMPLATE_ESC_PYTHON, "caf\xc3\xa9 \xe2\x82\xac");
        node_free(u);
        node_free(ctx);
}
END_TEST

START_TEST(test_sections) {
        struct node *ctx = sample();
        expect("{{#list}}{{.}},{{/list}}", ctx, TEMPLATE_ESC_NONE, "x,y,z,");
        expect("{{#people}}{{who}}{{^last}}, {{/last}}{{/people}}", ctx, TEMPLATE_ESC_NONE,
               "Ann, Bob");
        /* outer names are visible inside a section */
        expect("{{#people}}{{who}}/{{name}} {{/people}}", ctx, TEMPLATE_ESC_NONE,
               "Ann/World Bob/World ");
        /* a map is pushed once */
        expect("{{#a}}{{label}}:{{b.c}}{{/a}}", ctx, TEMPLATE_ESC_NONE, "inner label:deep value");
        /* a truthy scalar renders once, and is {{.}} */
        expect("{{#name}}[{{.}}]{{/name}}", ctx, TEMPLATE_ESC_NONE, "[World]");
        expect("{{#yes}}Y{{/yes}}{{#zero}}0{{/zero}}{{#quoted_false}}Q{{/quoted_false}}", ctx,
               TEMPLATE_ESC_NONE, "Y0Q");
        /* falsy: absent, null, plain false, "", empty sequence and map */
        expect("{{#absent}}A{{/absent}}{{#nothing}}N{{/nothing}}{{#no}}F{{/no}}"
               "{{#empty}}E{{/empty}}{{#empty_list}}L{{/empty_list}}{{#empty_map}}M{{/empty_map}}"
               "{{#null_word}}W{{/null_word}}.",
               ctx, TEMPLATE_ESC_NONE, ".");
        expect("{{^absent}}A{{/absent}}{{^nothing}}N{{/nothing}}{{^no}}F{{/no}}"
               "{{^empty}}E{{/empty}}{{^empty_list}}L{{/empty_list}}{{^empty_map}}M{{/empty_map}}"
               "{{^yes}}Y{{/yes}}{{^list}}S{{/list}}",
               ctx, TEMPLATE_ESC_NONE, "ANFELM");
        /* dotted section names, partly missing paths are falsy */
        expect("{{#a.b}}{{c}}{{/a.b}}{{#a.nope}}X{{/a.nope}}{{#nope.b}}Y{{/nope.b}}", ctx,
               TEMPLATE_ESC_NONE, "deep value");
        /* nested sections over the same list */
        expect("{{#list}}{{#list}}{{.}}{{/list}};{{/list}}", ctx, TEMPLATE_ESC_NONE,
               "xyz;xyz;xyz;");
        node_free(ctx);
}
END_TEST

START_TEST(test_standalone_lines) {
        struct node *ctx = sample();
        expect("begin\n{{#list}}\n  item {{.}}\n{{/list}}\nend\n", ctx, TEMPLATE_ESC_NONE,
               "begin\n  item x\n  item y\n  item z\nend\n");
        /* indented standalone tags and trailing blanks */
        expect("begin\n    {{#yes}}  \n    yes\n    {{/yes}}\t\nend", ctx, TEMPLATE_ESC_NONE,
               "begin\n    yes\nend");
        /* CRLF line ends */
        expect("a\r\n{{#yes}}\r\nb\r\n{{/yes}}\r\nc\r\n", ctx, TEMPLATE_ESC_NONE, "a\r\nb\r\nc\r\n");
        /* a standalone comment, a one-line and a multi-line one */
        expect("a\n{{! a comment }}\nb\n  {{! two\n lines }}\nc\n", ctx, TEMPLATE_ESC_NONE,
               "a\nb\nc\n");
        /* inline comment */
        expect("a{{! gone }}b", ctx, TEMPLATE_ESC_NONE, "ab");
        /* at the very start and end of the template */
        expect("{{#yes}}\nonly\n{{/yes}}", ctx, TEMPLATE_ESC_NONE, "only\n");
        /* not standalone: other text or another tag on the line keeps the line */
        expect("x {{#yes}}\ny\n{{/yes}} z\n", ctx, TEMPLATE_ESC_NONE, "x \ny\n z\n");
        expect("{{#yes}}{{name}}\n{{/yes}}", ctx, TEMPLATE_ESC_NONE, "World\n");
        expect("{{#no}}{{/no}}\n", ctx, TEMPLATE_ESC_NONE, "\n");
        /* a variable alone on a line is never standalone */
        expect("a\n{{nothing}}\nb\n", ctx, TEMPLATE_ESC_NONE, "a\n\nb\n");
        /* a falsy standalone section leaves nothing behind */
        expect("a\n{{#no}}\nb\n{{/no}}\nc\n", ctx, TEMPLATE_ESC_NONE, "a\nc\n");
        node_free(ctx);
}
END_TEST

START_TEST(test_partials) {
        struct node *ctx = sample();
        expect("<{{>greet}}>", ctx, TEMPLATE_ESC_NONE, "<Hello World!>");
        expect("{{#people}}{{>greet}} {{/people}}", ctx, TEMPLATE_ESC_NONE, "Hello World! Hello World! ");
        expect("list:\n{{#list}}\n{{>item}}\n{{/list}}\n", ctx, TEMPLATE_ESC_NONE,
               "list:\n- x\n- y\n- z\n");
        /* a standalone partial is indented like its tag, blank lines stay empty */
        struct node *v = node_new_map();
        ck_assert_int_eq(node_map_set_string(v, "value", "42"), 0);
        expect("class A:\n    {{>block}}\nend\n", v, TEMPLATE_ESC_NONE,
               "class A:\n    def f():\n        return 42\n\n    pass\nend\n");
        node_free(v);
        node_free(ctx);
}
END_TEST

START_TEST(test_check_without_rendering) {
        char *error = NULL;
        /* unknown names are fine: only the syntax is checked */
        ck_assert_int_eq(template_check("ok.tmpl", "{{#a}}{{b}}{{/a}}{{>p}}\n", 23, &error), 0);
        ck_assert_ptr_null(error);
        const char *bad = "line one\n{{#items}}\n{{name}}\n";
        ck_assert_int_eq(template_check("bad.tmpl", bad, strlen(bad), &error), -EINVAL);
        ck_assert_ptr_nonnull(error);
        ck_assert_ptr_nonnull(strstr(error, "bad.tmpl:2:"));
        ck_assert_ptr_nonnull(strstr(error, "unclosed section 'items'"));
        free(error);
}
END_TEST

START_TEST(test_errors) {
        struct node *ctx = sample();
        expect_error("line 1\nline 2\n  {{typo}}\n", ctx, "t.tmpl:3: unknown variable 'typo'");
        expect_error("{{a.b.missing}}", ctx, "t.tmpl:1: unknown variable 'a.b.missing'");
        expect_error("{{.}}", NULL, "t.tmpl:1: unknown variable '.'");
        expect_error("a\n{{#list}}\nb\n", ctx, "t.tmpl:2: unclosed section 'list'");
        expect_error("{{#a}}\n{{#list}}\n{{/a}}\n{{/list}}", ctx,
                     "t.tmpl:3: mismatched close 'a' (section 'list' opened on line 2)");
        expect_error("x\n{{/list}}", ctx, "t.tmpl:2: close of section 'list' that is not open");
        expect_error("\n\n{{>nope}}", ctx, "t.tmpl:3: unknown partial 'nope'");
        expect_error("{{>self}}", ctx, "self:1: partials nested deeper than 16 (at 'self')");
        expect_error("{{>broken}}", ctx, "broken:2: unclosed section 'open'");
        expect_error("a {{name", ctx, "t.tmpl:1: unclosed tag");
        expect_error("a {{{name}}", ctx, "t.tmpl:1: unclosed tag");
        expect_error("{{}}", ctx, "t.tmpl:1: bad tag name ''");
        expect_error("{{a..b}}", ctx, "t.tmpl:1: bad tag name 'a..b'");
        expect_error("{{na me}}", ctx, "t.tmpl:1: bad tag name 'na me'");
        expect_error("{{=<% %>=}}", ctx, "t.tmpl:1: delimiter changes are not supported");
        expect_error("\n{{list}}", ctx, "t.tmpl:2: variable 'list' is a sequence, not a value");
        expect_error("{{a}}", ctx, "t.tmpl:1: variable 'a' is a mapping, not a value");
        /* the line of a tag after a multi-line comment */
        expect_error("{{! one\ntwo\nthree }} {{oops}}", ctx, "t.tmpl:3: unknown variable 'oops'");
        /* errors inside sections that render zero times are still syntax-checked */
        expect_error("{{#no}}{{#x}}{{/no}}", ctx,
                     "t.tmpl:1: mismatched close 'no' (section 'x' opened on line 1)");
        node_free(ctx);
}
END_TEST

START_TEST(test_partial_depth_setting) {
        struct node *ctx = sample();
        struct template_env env = { .load = table_loader, .userdata = partials, .max_depth = 3 };
        struct strbuf out;
        char *err = NULL;
        strbuf_init(&out, 0);
        ck_assert_int_eq(template_render(&env, "t", "{{>self}}", 9, ctx, &out, &err), -EINVAL);
        ck_assert_str_eq(err, "self:1: partials nested deeper than 3 (at 'self')");
        free(err);
        err = NULL;
        /* without a loader every partial is unknown */
        env.load = NULL;
        ck_assert_int_eq(template_render(&env, "t", "{{>greet}}", 10, ctx, &out, &err), -EINVAL);
        ck_assert_str_eq(err, "t:1: unknown partial 'greet'");
        free(err);
        strbuf_free(&out);
        node_free(ctx);
}
END_TEST

START_TEST(test_nesting_limit) {
        struct strbuf src;
        strbuf_init(&src, 0);
        for (int i = 0; i < 65; i++)
                ck_assert_int_eq(strbuf_adds(&src, "{{#yes}}"), 0);
        for (int i = 0; i < 65; i++)
                ck_assert_int_eq(strbuf_adds(&src, "{{/yes}}"), 0);
        struct node *ctx = sample();
        int r;
        char *err = NULL;
        char *got = render(strbuf_str(&src), ctx, TEMPLATE_ESC_NONE, &r, &err);
        ck_assert_ptr_null(got);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_str_eq(err, "t.tmpl:1: sections nested deeper than 64");
        free(err);
        /* 63 levels (plus the root context) are fine */
        strbuf_reset(&src);
        for (int i = 0; i < 63; i++)
                ck_assert_int_eq(strbuf_adds(&src, "{{#yes}}"), 0);
        ck_assert_int_eq(strbuf_adds(&src, "ok"), 0);
        for (int i = 0; i < 63; i++)
                ck_assert_int_eq(strbuf_adds(&src, "{{/yes}}"), 0);
        expect(strbuf_str(&src), ctx, TEMPLATE_ESC_NONE, "ok");
        strbuf_free(&src);
        node_free(ctx);
}
END_TEST

START_TEST(test_bounded_output) {
        struct node *ctx = sample();
        struct template_env env = { .escape = TEMPLATE_ESC_NONE };
        struct strbuf out;
        char *err = NULL;
        strbuf_init(&out, 12);
        ck_assert_int_eq(strbuf_adds(&out, "keep"), 0);
        const char *src = "{{#list}}{{name}}{{/list}}";
        ck_assert_int_eq(template_render(&env, "big", src, strlen(src), ctx, &out, &err), -E2BIG);
        ck_assert_str_eq(strbuf_str(&out), "keep");
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err, "big:1: output larger than 12 bytes");
        free(err);
        err = NULL;
        /* the same template fits a larger buffer, appended after what was there */
        out.max = 100;
        ck_assert_int_eq(template_render(&env, "big", src, strlen(src), ctx, &out, &err), 0);
        ck_assert_str_eq(strbuf_str(&out), "keepWorldWorldWorld");
        ck_assert_ptr_null(err);
        strbuf_free(&out);
        node_free(ctx);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("template");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_variables);
        tcase_add_test(tc, test_escaping);
        tcase_add_test(tc, test_sections);
        tcase_add_test(tc, test_standalone_lines);
        tcase_add_test(tc, test_partials);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_partial_depth_setting);
        tcase_add_test(tc, test_nesting_limit);
        tcase_add_test(tc, test_bounded_output);
        tcase_add_test(tc, test_check_without_rendering);
        suite_add_tcase(s, tc);
        return s;
}
