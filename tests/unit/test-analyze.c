/* test-analyze.c - syntax errors against CPython, quality figures against Python's ast,
 * classification, LOC, the metrics map, directory walking and its limits. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "check-main.h"
#include "shared/fs.h"
#include "shared/strbuf.h"

#define PYTHON "/usr/bin/python3"

/* ---- helpers ---- */

static char *data_path(const char *rel) {
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/tests/data/%s", test_srcdir(), rel), 0);
        return p;
}

static int shell_quote(struct strbuf *sb, const char *s) {
        int r = strbuf_addc(sb, '\'');
        for (; *s && r == 0; s++)
                r = *s == '\'' ? strbuf_adds(sb, "'\\''") : strbuf_addc(sb, *s);
        return r < 0 ? r : strbuf_addc(sb, '\'');
}

/* Runs a shell command, returns its exit status; its output (at most 1 MiB) in *out. */
static int run(const char *cmd, struct strbuf *out) {
        FILE *f = popen(cmd, "r");
        ck_assert_msg(f != NULL, "popen %s", cmd);
        char buf[4096];
        size_t k;
        while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
                if (out)
                        ck_assert_int_eq(strbuf_add(out, buf, k), 0);
        int st = pclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool cpython_compiles(const char *path) {
        struct strbuf cmd;
        strbuf_init(&cmd, 0);
        ck_assert_int_eq(strbuf_adds(&cmd, PYTHON " -c 'import sys; compile(open(sys.argv[1], \"rb\").read(), "
                                           "sys.argv[1], \"exec\")' "), 0);
        ck_assert_int_eq(shell_quote(&cmd, path), 0);
        ck_assert_int_eq(strbuf_adds(&cmd, " 2>/dev/null"), 0);
        int st = run(cmd.buf, NULL);
        strbuf_free(&cmd);
        return st == 0;
}

static void analyze_file(const char *path, const char *rel, struct file_metrics *m) {
        char *data;
        size_t len;
        ck_assert_int_eq(read_file_bounded(path, ANALYZE_FILE_MAX, &data, &len), 0);
        ck_assert_int_eq(analyze_source(rel, data, len, m), 0);
        free(data);
}

static int analyze_str(const char *rel, const char *src, struct file_metrics *m) {
        return analyze_source(rel, src, strlen(src), m);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted names of *.py files in a directory. */
static size_t list_py(const char *dir, char ***ret) {
        DIR *d = opendir(dir);
        ck_assert_msg(d != NULL, "opendir %s", dir);
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 3 || strcmp(de->d_name + l - 3, ".py") != 0)
                        continue;
                char **nv = realloc(v, (n + 1) * sizeof(*v));
                ck_assert_ptr_nonnull(nv);
                v = nv;
                v[n++] = strdup(de->d_name);
        }
        closedir(d);
        ck_assert_ptr_nonnull(v);
        qsort(v, n, sizeof(*v), cmp_str);
        *ret = v;
        return n;
}

static const struct node *at(const struct node *n, const char *path) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
                n = node_get(n, k);
                ck_assert_msg(n != NULL, "missing key %s in %s", k, path);
        }
        return n;
}

static long long at_int(const struct node *n, const char *path) {
        long long v;
        ck_assert_msg(node_as_int(at(n, path), &v) == 0, "%s is not an integer", path);
        return v;
}

static double at_double(const struct node *n, const char *path) {
        double v;
        ck_assert_msg(node_as_double(at(n, path), &v) == 0, "%s is not a number", path);
        return v;
}

static bool at_bool(const struct node *n, const char *path) {
        bool v;
        ck_assert_msg(node_as_bool(at(n, path), &v) == 0, "%s is not a boolean", path);
        return v;
}

/* "key value" lines as printed by ast_count.py. */
struct kv {
        char key[64];
        long long value;
};

static size_t parse_kv(const char *text, struct kv *v, size_t max) {
        size_t n = 0;
        for (const char *p = text; *p && n < max;) {
                const char *e = strchr(p, '\n');
                char line[512];
                size_t l = e ? (size_t) (e - p) : strlen(p);
                snprintf(line, sizeof(line), "%.*s", (int) (l < sizeof(line) ? l : sizeof(line) - 1), p);
                if (sscanf(line, "%63s %lld", v[n].key, &v[n].value) == 2)
                        n++;
                p = e ? e + 1 : p + l;
        }
        return n;
}

static long long kv_get(const struct kv *v, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].key, key) == 0)
                        return v[i].value;
        ck_abort_msg("ast_count.py printed no %s", key);
        return -1;
}

/* ---- syntax: agreement with CPython ---- */

START_TEST(test_corpus_agrees_with_cpython) {
        char *dir = data_path("syntax-corpus");
        char **names;
        size_t n = list_py(dir, &names), valid = 0, invalid = 0;
        struct strbuf bad;
        strbuf_init(&bad, 0);
        ck_assert_uint_ge(n, 60);
        for (size_t i = 0; i < n; i++) {
                char *path = path_join(dir, names[i]);
                struct file_metrics m;
                analyze_file(path, names[i], &m);
                bool py_ok = cpython_compiles(path);
                bool ours_ok = m.errors.count == 0;
                valid += py_ok;
                invalid += !py_ok;
                if (py_ok != ours_ok)
                        ck_assert_int_eq(strbuf_addf(&bad, "\n  %s: python %s, codegend %zu error(s)%s%s", names[i],
                                                     py_ok ? "compiles" : "refuses", m.errors.count,
                                                     m.errors.n ? ", first: " : "",
                                                     m.errors.n ? m.errors.v[0].message : ""), 0);
                /* the corpus is labelled: ok-* compile, err-* do not */
                if (py_ok != (strncmp(names[i], "ok-", 3) == 0))
                        ck_assert_int_eq(strbuf_addf(&bad, "\n  %s: label disagrees with python", names[i]), 0);
                file_metrics_clear(&m);
                free(path);
                free(names[i]);
        }
        free(names);
        free(dir);
        ck_assert_msg(bad.len == 0, "disagreements with CPython:%s", strbuf_str(&bad));
        ck_assert_uint_ge(valid, 25);
        ck_assert_uint_ge(invalid, 35);
        strbuf_free(&bad);
}
END_TEST

START_TEST(test_error_positions_and_excerpts) {
        struct file_metrics m;
        /* columns count characters: "é" is two bytes, one column */
        ck_assert_int_eq(analyze_str("a.py", "x = 'é'; y = 1 <> 2\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 1);
        ck_assert_uint_eq(m.errors.v[0].column, 16);
        ck_assert_str_eq(m.errors.v[0].excerpt, "x = 'é'; y = 1 <> 2");
        file_metrics_clear(&m);

        ck_assert_int_eq(analyze_str("a.py", "def f():\n    return 1\n      x = 2\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 3);
        ck_assert_uint_eq(m.errors.v[0].column, 7);
        ck_assert_str_eq(m.errors.v[0].message, "unexpected indent");
        ck_assert_str_eq(m.errors.v[0].excerpt, "x = 2");
        file_metrics_clear(&m);

        /* a long line: at most 60 characters, starting shortly before the error */
        struct strbuf src;
        strbuf_init(&src, 0);
        ck_assert_int_eq(strbuf_adds(&src, "values = ["), 0);
        for (int i = 0; i < 40; i++)
                ck_assert_int_eq(strbuf_addf(&src, "%d, ", i), 0);
        ck_assert_int_eq(strbuf_adds(&src, "0777]\n"), 0);
        ck_assert_int_eq(analyze_source("a.py", src.buf, src.len, &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_str_eq(m.errors.v[0].message, "leading zeros in decimal integer literals are not permitted");
        ck_assert_uint_le(strlen(m.errors.v[0].excerpt), 60);
        ck_assert_ptr_nonnull(strstr(m.errors.v[0].excerpt, "0777]"));
        file_metrics_clear(&m);

        /* every error counted, the first 20 by position kept */
        strbuf_reset(&src);
        for (int i = 0; i < 30; i++)
                ck_assert_int_eq(strbuf_addf(&src, "print 'line %d'\n", i), 0);
        ck_assert_int_eq(analyze_source("a.py", src.buf, src.len, &m), 0);
        ck_assert_uint_eq(m.errors.count, 30);
        ck_assert_uint_eq(m.errors.n, PY_ERRORS_KEEP);
        for (size_t i = 0; i < m.errors.n; i++)
                ck_assert_uint_eq(m.errors.v[i].line, i + 1);

        struct node *list;
        ck_assert_int_eq(analyze_errors_to_node(&m, &list), 0);
        ck_assert_uint_eq(list->n, PY_ERRORS_KEEP);
        ck_assert_int_eq(at_int(list->items[2], "line"), 3);
        ck_assert_int_eq(at_int(list->items[2], "column"), 1);
        ck_assert_str_eq(at(list->items[2], "excerpt")->value, "print 'line 2'");
        ck_assert_str_eq(at(list->items[2], "message")->value, "missing parentheses in call to 'print'");
        node_free(list);
        file_metrics_clear(&m);
        strbuf_free(&src);
}
END_TEST

START_TEST(test_errors_counted_once) {
        struct file_metrics m;
        /* ``` at top and bottom: two parser regions, the __future__ import after the
         * first is not a second finding */
        ck_assert_int_eq(analyze_str("a.py", "```python\nfrom __future__ import annotations\nx = 1\n```\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 2);
        file_metrics_clear(&m);
        /* one bad dedent: later returns are not "outside function" too */
        ck_assert_int_eq(analyze_str("a.py", "def f(x):\n        y = x\n    return y\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_str_eq(m.errors.v[0].message, "unindent does not match any outer indentation level");
        file_metrics_clear(&m);
        /* await at module level: one finding, not one per await token */
        ck_assert_int_eq(analyze_str("a.py", "await x\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        file_metrics_clear(&m);
        /* what tree-sitter accepts and CPython's tokenizer does not */
        ck_assert_int_eq(analyze_str("a.py", "def t(r):\n    assert r == \"\nada@example.com\"\n", &m), 0);
        ck_assert_uint_ge(m.errors.count, 1);
        ck_assert_str_eq(m.errors.v[0].message, "unterminated string literal");
        ck_assert_uint_eq(m.errors.v[0].line, 2);
        ck_assert_uint_eq(m.errors.v[0].column, 17);
        file_metrics_clear(&m);
        ck_assert_int_eq(analyze_str("a.py", "x = 1\nimport os import sys\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 2);
        ck_assert_uint_eq(m.errors.v[0].column, 11);
        file_metrics_clear(&m);
        /* a prose line ending in ':' does not also ask for an indented block */
        ck_assert_int_eq(analyze_str("a.py", "Sure! Here's the code:\nx = 1\n", &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 1);
        file_metrics_clear(&m);
}
END_TEST

START_TEST(test_deep_nesting) {
        /* iterative walks: deep input must neither crash nor take long */
        struct strbuf src;
        strbuf_init(&src, 0);
        ck_assert_int_eq(strbuf_adds(&src, "x = "), 0);
        for (int i = 0; i < 3000; i++)
                ck_assert_int_eq(strbuf_addc(&src, '('), 0);
        ck_assert_int_eq(strbuf_addc(&src, '1'), 0);
        for (int i = 0; i < 3000; i++)
                ck_assert_int_eq(strbuf_addc(&src, ')'), 0);
        ck_assert_int_eq(strbuf_addc(&src, '\n'), 0);
        struct file_metrics m;
        ck_assert_int_eq(analyze_source("deep.py", src.buf, src.len, &m), 0);
        ck_assert_uint_eq(m.errors.count, 0);
        file_metrics_clear(&m);

        /* CPython allows at most 100 levels of indentation */
        strbuf_reset(&src);
        for (int i = 0; i < 101; i++) {
                for (int k = 0; k < i; k++)
                        ck_assert_int_eq(strbuf_addc(&src, ' '), 0);
                ck_assert_int_eq(strbuf_adds(&src, "if x:\n"), 0);
        }
        for (int k = 0; k < 101; k++)
                ck_assert_int_eq(strbuf_addc(&src, ' '), 0);
        ck_assert_int_eq(strbuf_adds(&src, "pass\n"), 0);
        ck_assert_int_eq(analyze_source("deep.py", src.buf, src.len, &m), 0);
        ck_assert_uint_eq(m.errors.count, 1);
        ck_assert_str_eq(m.errors.v[0].message, "too many levels of indentation");
        file_metrics_clear(&m);
        strbuf_free(&src);
}
END_TEST

/* ---- quality: agreement with Python's ast ---- */

static const char *const fixtures[] = {
        "src/config.py", "src/database.py", "src/errors.py", "src/main.py", "src/models/user.py",
        "src/models/task.py", "src/api/schemas/user.py", "src/api/routes/users.py",
        "src/api/routes/tasks.py", "src/services/user.py", "src/services/task.py",
        "src/validations/task.py", "migrations/env.py", "migrations/versions/001_initial.py",
        "tests/conftest.py", "tests/test_users.py", "tests/test_tasks.py", "src/api/__init__.py",
};

START_TEST(test_quality_matches_ast) {
        char *script = data_path("analyze/ast_count.py");
        char *root = data_path("analyze/project");
        struct strbuf cmd, out;
        strbuf_init(&cmd, 0);
        strbuf_init(&out, 0);
        ck_assert_int_eq(strbuf_adds(&cmd, PYTHON " "), 0);
        ck_assert_int_eq(shell_quote(&cmd, script), 0);
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                char *p = path_join(root, fixtures[i]);
                ck_assert_int_eq(strbuf_adds(&cmd, " "), 0);
                ck_assert_int_eq(shell_quote(&cmd, p), 0);
                free(p);
        }
        ck_assert_int_eq(run(cmd.buf, &out), 0);

        /* split the output at "file " lines: one block per fixture, in order */
        const char *block = out.buf;
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                block = strstr(block, "file ");
                ck_assert_ptr_nonnull(block);
                const char *next = strstr(block + 5, "\nfile ");
                char *text = strndup(block, next ? (size_t) (next - block) + 1 : strlen(block));
                struct kv kv[32];
                size_t n = parse_kv(text, kv, ELEMENTSOF(kv));
                ck_assert_int_eq(kv_get(kv, n, "compiles"), 1);

                char *p = path_join(root, fixtures[i]);
                struct file_metrics m;
                analyze_file(p, fixtures[i], &m);
                ck_assert_msg(m.errors.count == 0, "%s: unexpected syntax error", fixtures[i]);
                const struct py_facts *f = &m.facts;
#define SAME(field, key)                                                                   \
        ck_assert_msg((long long) f->field == kv_get(kv, n, key), "%s: %s is %llu, ast says %lld", \
                      fixtures[i], key, (unsigned long long) f->field, kv_get(kv, n, key))
                SAME(functions, "functions");
                SAME(annotated, "annotated");
                SAME(doc_candidates, "doc_candidates");
                SAME(docstrings, "docstrings");
                SAME(try_blocks, "try_blocks");
                SAME(raises, "raises");
                SAME(http_exceptions, "http_exceptions");
                SAME(n_orm_classes, "orm_classes");
#undef SAME
                for (size_t k = 0; k < f->n_routes; k++) {
                        char want[300];
                        snprintf(want, sizeof(want), "\nroute %s %s\n", f->routes[k].method, f->routes[k].path);
                        ck_assert_msg(strstr(text, want) != NULL, "%s: route %s %s unknown to ast", fixtures[i],
                                      f->routes[k].method, f->routes[k].path);
                }
                size_t ast_routes = 0;
                for (const char *q = text; (q = strstr(q, "\nroute ")); q++)
                        ast_routes++;
                ck_assert_uint_eq(ast_routes, f->n_routes);
                file_metrics_clear(&m);
                free(p);
                free(text);
                block += 5;
        }
        strbuf_free(&cmd);
        strbuf_free(&out);
        free(script);
        free(root);
}
END_TEST

START_TEST(test_quality_details) {
        struct file_metrics m;
        const char *src =
                "class A(Base):\n"
                "    def m(self, x: int) -> int:\n"     /* self exempt: annotated */
                "        return x\n"
                "    @classmethod\n"
                "    def c(cls) -> None:\n"             /* cls exempt */
                "        '''doc'''\n"
                "    async def n(self, *args: int, **kw) -> None:\n" /* **kw bare: not annotated */
                "        pass\n"
                "def f(self: int, *, k: str = 'a') -> str:\n"       /* not a method, typed */
                "    f'not a docstring'\n"
                "    return k\n"
                "def g(a, /, b: int) -> None:\n"    /* a unannotated */
                "    try:\n"
                "        raise HTTPException(404)\n" /* raise + call: http once */
                "    except* ValueError:\n"
                "        raise fastapi.HTTPException\n" /* bare name: http */
                "    lambda q: q\n"
                "class B(models.Base, Mixin):\n"
                "    '''Doc.'''\n"
                "class C(Other):\n"
                "    x = HTTPException(400)\n";
        ck_assert_int_eq(analyze_str("src/x.py", src, &m), 0);
        ck_assert_uint_eq(m.errors.count, 0);
        ck_assert_uint_eq(m.facts.functions, 5);
        ck_assert_uint_eq(m.facts.annotated, 3);
        ck_assert_uint_eq(m.facts.doc_candidates, 1 + 3 + 5);
        ck_assert_uint_eq(m.facts.docstrings, 2);
        ck_assert_uint_eq(m.facts.try_blocks, 1);
        ck_assert_uint_eq(m.facts.raises, 2);
        ck_assert_uint_eq(m.facts.http_exceptions, 3);
        ck_assert_uint_eq(m.facts.n_orm_classes, 2);
        ck_assert_str_eq(m.facts.orm_classes[0], "A");
        ck_assert_str_eq(m.facts.orm_classes[1], "B");
        file_metrics_clear(&m);

        /* an empty module is no docstring candidate; a comment-only one neither */
        ck_assert_int_eq(analyze_str("src/__init__.py", "# package\n", &m), 0);
        ck_assert_uint_eq(m.facts.doc_candidates, 0);
        file_metrics_clear(&m);
        ck_assert_int_eq(analyze_str("src/__init__.py", "# package\n\"\"\"Doc.\"\"\"\n", &m), 0);
        ck_assert_uint_eq(m.facts.doc_candidates, 1);
        ck_assert_uint_eq(m.facts.docstrings, 1);
        file_metrics_clear(&m);
}
END_TEST

START_TEST(test_routes_and_prefixes) {
        const char *src =
                "users = APIRouter(prefix='/users/', tags=['u'])\n"
                "other: APIRouter = fastapi.APIRouter(prefix=settings.api_prefix)\n"
                "@users.get('')\n"
                "def a() -> None: ...\n"
                "@users.delete(path='/{user_id}')\n"
                "def b() -> None: ...\n"
                "@other.post('/x')\n"                /* prefix not a literal: none */
                "def c() -> None: ...\n"
                "@app.put('/items/{id}', status_code=200)\n"
                "def d() -> None: ...\n"
                "@users.get(f'/{name}')\n"           /* not a literal: no route */
                "def e() -> None: ...\n"
                "@users.options('/x')\n"             /* not a method we count */
                "def g() -> None: ...\n"
                "@users.patch(PATH)\n"
                "def h() -> None: ...\n";
        struct file_metrics m;
        ck_assert_int_eq(analyze_str("src/api/routes/users.py", src, &m), 0);
        ck_assert_uint_eq(m.errors.count, 0);
        ck_assert_uint_eq(m.facts.n_routes, 4);
        ck_assert_str_eq(m.facts.routes[0].method, "GET");
        ck_assert_str_eq(m.facts.routes[0].path, "/users");
        ck_assert_str_eq(m.facts.routes[1].method, "DELETE");
        ck_assert_str_eq(m.facts.routes[1].path, "/users/{user_id}");
        ck_assert_str_eq(m.facts.routes[2].path, "/x");
        ck_assert_str_eq(m.facts.routes[3].method, "PUT");
        ck_assert_str_eq(m.facts.routes[3].path, "/items/{id}");
        ck_assert_uint_eq(m.facts.routes[3].line, 9);
        file_metrics_clear(&m);
}
END_TEST

/* ---- classification and LOC ---- */

START_TEST(test_classification) {
        static const struct {
                const char *path;
                enum file_class cls;
                enum loc_category cat;
        } t[] = {
                { "src/models/user.py", FILE_CLASS_PYTHON, LOC_MODELS },
                { "src/api/routes/users.py", FILE_CLASS_PYTHON, LOC_ROUTES },
                { "src/api/schemas/task.py", FILE_CLASS_PYTHON, LOC_SCHEMAS },
                { "src/validations/task.py", FILE_CLASS_PYTHON, LOC_VALIDATIONS },
                { "src/services/user.py", FILE_CLASS_PYTHON, LOC_OTHER },
                { "src/main.py", FILE_CLASS_PYTHON, LOC_OTHER },
                { "tests/test_users.py", FILE_CLASS_PYTHON, LOC_TESTS },
                { "migrations/env.py", FILE_CLASS_MIGRATION, LOC_MIGRATIONS },
                { "migrations/versions/001_initial.py", FILE_CLASS_MIGRATION, LOC_MIGRATIONS },
                { "migrations/alembic.ini", FILE_CLASS_MIGRATION, LOC_MIGRATIONS },
                { "alembic.ini", FILE_CLASS_MIGRATION, LOC_MIGRATIONS },
                { "migrations/script.py.mako", FILE_CLASS_OTHER, LOC_MIGRATIONS },
                { "README.md", FILE_CLASS_MARKDOWN, LOC_OTHER },
                { "docs/API.MD", FILE_CLASS_MARKDOWN, LOC_OTHER },
                { "Dockerfile", FILE_CLASS_CONFIG, LOC_OTHER },
                { "docker/Dockerfile.dev", FILE_CLASS_CONFIG, LOC_OTHER },
                { "docker-compose.yml", FILE_CLASS_CONFIG, LOC_OTHER },
                { "config/app.yaml", FILE_CLASS_CONFIG, LOC_OTHER },
                { "pyproject.toml", FILE_CLASS_CONFIG, LOC_OTHER },
                { "setup.cfg", FILE_CLASS_CONFIG, LOC_OTHER },
                { "requirements.txt", FILE_CLASS_CONFIG, LOC_OTHER },
                { ".env.example", FILE_CLASS_CONFIG, LOC_OTHER },
                { ".env", FILE_CLASS_CONFIG, LOC_OTHER },
                { ".gitignore", FILE_CLASS_CONFIG, LOC_OTHER },
                { ".dockerignore", FILE_CLASS_CONFIG, LOC_OTHER },
                { "run.sh", FILE_CLASS_OTHER, LOC_OTHER },
                { "Makefile", FILE_CLASS_OTHER, LOC_OTHER },
                { "static/logo.png", FILE_CLASS_OTHER, LOC_OTHER },
                { "srcx/models/a.py", FILE_CLASS_PYTHON, LOC_OTHER },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ck_assert_msg(file_class_of(t[i].path) == t[i].cls, "%s: class %s", t[i].path,
                              file_class_name(file_class_of(t[i].path)));
                ck_assert_msg(loc_category_of(t[i].path) == t[i].cat, "%s: category %s", t[i].path,
                              loc_category_name(loc_category_of(t[i].path)));
        }
        ck_assert_str_eq(file_class_name(FILE_CLASS_MIGRATION), "migration");
        ck_assert_str_eq(loc_category_name(LOC_VALIDATIONS), "validations");
}
END_TEST

START_TEST(test_loc) {
        ck_assert_uint_eq(count_loc("", 0), 0);
        ck_assert_uint_eq(count_loc("\n\n", 2), 0);
        ck_assert_uint_eq(count_loc("a", 1), 1);
        ck_assert_uint_eq(count_loc("a\n", 2), 1);
        const char *mixed = "a\n\n  \n\tb\r\n \f\v\r\n# c\n";
        ck_assert_uint_eq(count_loc(mixed, strlen(mixed)), 3);
        ck_assert_uint_eq(count_loc("x\n   y", 6), 2);

        struct file_metrics m;
        const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n";
        ck_assert_int_eq(analyze_source("static/logo.png", png, sizeof(png) - 1, &m), 0);
        ck_assert(m.binary);
        ck_assert(!m.python);
        ck_assert_uint_eq(m.loc, 0);
        file_metrics_clear(&m);
        ck_assert_int_eq(analyze_str("docs/API.md", "# API\n\nline\n", &m), 0);
        ck_assert_int_eq(m.cls, FILE_CLASS_MARKDOWN);
        ck_assert_uint_eq(m.loc, 2);
        ck_assert_uint_eq(m.errors.count, 0);
        file_metrics_clear(&m);
        /* Python with a NUL byte: LOC counted, and a syntax error */
        ck_assert_int_eq(analyze_source("a.py", "x = 1\n\0\n", 8, &m), 0);
        ck_assert_uint_eq(m.loc, 2);
        ck_assert_uint_ge(m.errors.count, 1);
        file_metrics_clear(&m);
}
END_TEST

/* ---- the metrics map ---- */

#define s_(literal) ((char *) (literal)) /* spec strings are not const */

static struct entity spec_entities[] = { { .name = s_("User") }, { .name = s_("Task") } };
static struct endpoint spec_endpoints[] = {
        { .method = s_("GET"), .path = s_("/users") },       { .method = s_("POST"), .path = s_("/users") },
        { .method = s_("GET"), .path = s_("/users/{id}") },  { .method = s_("PATCH"), .path = s_("/users/{id}") },
        { .method = s_("DELETE"), .path = s_("/users/{id}") }, { .method = s_("GET"), .path = s_("/tasks") },
        { .method = s_("POST"), .path = s_("/tasks") },      { .method = s_("GET"), .path = s_("/tasks/{id}") },
        { .method = s_("PATCH"), .path = s_("/tasks/{id}") }, { .method = s_("DELETE"), .path = s_("/tasks/{id}") },
};
static struct spec reference_spec = {
        .format = 1, .name = s_("taskmanager"), .api_prefix = s_("/api"),
        .entities = spec_entities, .n_entities = ELEMENTSOF(spec_entities),
        .endpoints = spec_endpoints, .n_endpoints = ELEMENTSOF(spec_endpoints),
};

static const char *const file_keys[] = { "python", "migration", "config", "markdown", "other" };
static const char *const loc_keys[] = { "models", "routes", "schemas", "validations", "tests", "migrations", "other" };

/* Compares files, loc and syntax of a metrics map with ast_count.py --tree. */
static void compare_with_script(const struct node *n, const char *root, struct kv *kv, size_t *ret_n,
                                size_t max) {
        char *script = data_path("analyze/ast_count.py");
        struct strbuf cmd, out;
        strbuf_init(&cmd, 0);
        strbuf_init(&out, 0);
        ck_assert_int_eq(strbuf_adds(&cmd, PYTHON " "), 0);
        ck_assert_int_eq(shell_quote(&cmd, script), 0);
        ck_assert_int_eq(strbuf_adds(&cmd, " --tree "), 0);
        ck_assert_int_eq(shell_quote(&cmd, root), 0);
        ck_assert_int_eq(run(cmd.buf, &out), 0);
        size_t k = parse_kv(out.buf, kv, max);
        char key[64];
        ck_assert_int_eq(at_int(n, "files.total"), kv_get(kv, k, "files.total"));
        for (size_t i = 0; i < ELEMENTSOF(file_keys); i++) {
                snprintf(key, sizeof(key), "files.%s", file_keys[i]);
                char path[80];
                snprintf(path, sizeof(path), "files.by_type.%s", file_keys[i]);
                ck_assert_msg(at_int(n, path) == kv_get(kv, k, key), "%s", key);
        }
        ck_assert_int_eq(at_int(n, "loc.total"), kv_get(kv, k, "loc.total"));
        for (size_t i = 0; i < ELEMENTSOF(loc_keys); i++) {
                snprintf(key, sizeof(key), "loc.%s", loc_keys[i]);
                char path[80];
                snprintf(path, sizeof(path), "loc.by_type.%s", loc_keys[i]);
                ck_assert_msg(at_int(n, path) == kv_get(kv, k, key), "%s", key);
        }
        ck_assert_int_eq(at_int(n, "syntax.files_with_errors"), kv_get(kv, k, "syntax.files_with_errors"));
        *ret_n = k;
        strbuf_free(&cmd);
        strbuf_free(&out);
        free(script);
}

static void assert_keys(const struct node *n, const char *const *keys, size_t nk) {
        ck_assert_int_eq(n->kind, NODE_MAP);
        ck_assert_uint_eq(n->n, nk);
        for (size_t i = 0; i < nk; i++)
                ck_assert_str_eq(n->keys[i]->value, keys[i]);
}

START_TEST(test_tree_matches_ast) {
        char *root = data_path("analyze/project");
        struct node *n = NULL;
        ck_assert_int_eq(analyze_tree(root, &reference_spec, NULL, &n), 0);

        /* exactly the keys of job-format.md section 5 */
        static const char *const top[] = { "files", "loc", "syntax", "quality", "success_criteria" };
        static const char *const q[] = { "type_hint_coverage", "docstring_coverage", "functions",
                                         "error_handling", "entities", "endpoints" };
        static const char *const eh[] = { "try_blocks", "raise_statements", "http_exceptions",
                                          "exception_handlers" };
        static const char *const sc[] = { "loc_at_least_1000", "entities_and_endpoints", "type_hints",
                                          "docstrings", "error_handling", "syntax_clean" };
        static const char *const sy[] = { "errors", "files_with_errors", "rate" };
        assert_keys(n, top, ELEMENTSOF(top));
        assert_keys(at(n, "quality"), q, ELEMENTSOF(q));
        assert_keys(at(n, "quality.error_handling"), eh, ELEMENTSOF(eh));
        assert_keys(at(n, "success_criteria"), sc, ELEMENTSOF(sc));
        assert_keys(at(n, "syntax"), sy, ELEMENTSOF(sy));
        assert_keys(at(n, "files.by_type"), file_keys, ELEMENTSOF(file_keys));
        assert_keys(at(n, "loc.by_type"), loc_keys, ELEMENTSOF(loc_keys));

        struct kv kv[64];
        size_t k;
        compare_with_script(n, root, kv, &k, ELEMENTSOF(kv));
        ck_assert_int_eq(at_int(n, "syntax.errors"), 0);
        ck_assert_str_eq(at(n, "syntax.rate")->value, "0.0");
        ck_assert_int_eq(at_int(n, "quality.functions"), kv_get(kv, k, "functions"));
        ck_assert_int_eq(at_int(n, "quality.error_handling.try_blocks"), kv_get(kv, k, "try_blocks"));
        ck_assert_int_eq(at_int(n, "quality.error_handling.raise_statements"), kv_get(kv, k, "raises"));
        ck_assert_int_eq(at_int(n, "quality.error_handling.http_exceptions"), kv_get(kv, k, "http_exceptions"));
        ck_assert_int_eq(at_int(n, "quality.error_handling.exception_handlers"),
                         kv_get(kv, k, "exception_handlers"));
        double th = round(10000.0 * (double) kv_get(kv, k, "annotated") / (double) kv_get(kv, k, "functions")) / 10000.0;
        double dc = round(10000.0 * (double) kv_get(kv, k, "docstrings") / (double) kv_get(kv, k, "doc_candidates")) / 10000.0;
        ck_assert_double_eq_tol(at_double(n, "quality.type_hint_coverage"), th, 1e-9);
        ck_assert_double_eq_tol(at_double(n, "quality.docstring_coverage"), dc, 1e-9);
        /* routers with a prefix, full paths, renamed parameters: all found */
        ck_assert_int_eq(at_int(n, "quality.entities.expected"), 2);
        ck_assert_int_eq(at_int(n, "quality.entities.found"), kv_get(kv, k, "orm_classes"));
        ck_assert_int_eq(at_int(n, "quality.endpoints.expected"), 10);
        ck_assert_int_eq(at_int(n, "quality.endpoints.found"), 10);

        ck_assert(!at_bool(n, "success_criteria.loc_at_least_1000")); /* a small fixture */
        ck_assert(at_bool(n, "success_criteria.entities_and_endpoints"));
        ck_assert_int_eq(at_bool(n, "success_criteria.type_hints"), th >= 0.95);
        ck_assert_int_eq(at_bool(n, "success_criteria.docstrings"), dc >= 0.95);
        ck_assert_int_eq(at_bool(n, "success_criteria.error_handling"),
                         kv_get(kv, k, "handling.missing") == 0 &&
                                 (kv_get(kv, k, "handling.missing_routes") == 0 ||
                                  kv_get(kv, k, "exception_handlers") > 0));
        ck_assert(at_bool(n, "success_criteria.syntax_clean"));
        node_free(n);

        /* other thresholds flip the criteria */
        struct analyze_thresholds t = { .loc_min = 500, .type_hints_min = 0.99, .docstrings_min = 0.9,
                                        .syntax_errors_max = 0 };
        ck_assert_int_eq(analyze_tree(root, &reference_spec, &t, &n), 0);
        ck_assert(at_bool(n, "success_criteria.loc_at_least_1000"));
        ck_assert(!at_bool(n, "success_criteria.type_hints"));
        ck_assert(at_bool(n, "success_criteria.docstrings"));
        node_free(n);
        struct node *tn;
        ck_assert_int_eq(analyze_thresholds_to_node(&t, &tn), 0);
        ck_assert_int_eq(at_int(tn, "loc_min"), 500);
        ck_assert_str_eq(at(tn, "type_hints_min")->value, "0.99");
        node_free(tn);

        /* without a spec nothing is expected; what was found is still reported */
        ck_assert_int_eq(analyze_tree(root, NULL, NULL, &n), 0);
        ck_assert_int_eq(at_int(n, "quality.entities.expected"), 0);
        ck_assert_int_eq(at_int(n, "quality.entities.found"), 2);
        ck_assert_int_eq(at_int(n, "quality.endpoints.found"), kv_get(kv, k, "routes"));
        ck_assert(at_bool(n, "success_criteria.entities_and_endpoints"));
        node_free(n);
        free(root);
}
END_TEST

static void put(const char *root, const char *rel, const char *text) {
        char *p = path_join(root, rel);
        char *dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(mkdir_p(dir, 0755), 0);
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644), 0);
        free(dir);
        free(p);
}

static char *slurp(const char *root, const char *rel) {
        char *p = path_join(root, rel), *d;
        size_t l;
        ck_assert_int_eq(read_file_bounded(p, 1 << 20, &d, &l), 0);
        free(p);
        return d;
}

START_TEST(test_tree_with_injected_mistakes) {
        char *src = data_path("analyze/project");
        char *tmp = test_tmpdir();
        char *root = path_join(tmp, "p");
        struct strbuf cmd;
        strbuf_init(&cmd, 0);
        ck_assert_int_eq(strbuf_adds(&cmd, "cp -R "), 0);
        ck_assert_int_eq(shell_quote(&cmd, src), 0);
        ck_assert_int_eq(strbuf_adds(&cmd, " "), 0);
        ck_assert_int_eq(shell_quote(&cmd, root), 0);
        ck_assert_int_eq(run(cmd.buf, NULL), 0);

        /* fence markers around a route file: two errors */
        char *users = slurp(root, "src/api/routes/users.py");
        char *fenced;
        ck_assert_int_ge(asprintf(&fenced, "```python\n%s```\n", users), 0);
        put(root, "src/api/routes/users.py", fenced);
        /* a TabError in a new service: one error */
        put(root, "src/services/report.py",
            "\"\"\"Reports.\"\"\"\n\n\ndef count(xs: list) -> int:\n    \"\"\"Count.\"\"\"\n"
            "    if not xs:\n        raise ValueError('empty')\n\treturn len(xs)\n");
        /* a stray prose line after a test: one error */
        char *tt = slurp(root, "tests/test_tasks.py"), *prose;
        ck_assert_int_ge(asprintf(&prose, "%s\nThese tests cover the task workflow.\n", tt), 0);
        put(root, "tests/test_tasks.py", prose);
        /* not the project: skipped directories and links */
        put(root, ".codegen/metrics.yaml", "files: {total: 1}\n");
        put(root, "src/__pycache__/junk.py", "```\n");
        put(root, ".venv/lib/site.py", "print 'x'\n");
        char *link = path_join(root, "src/link.py"), *target = path_join(root, "src/services/report.py");
        ck_assert_int_eq(symlink(target, link), 0);
        char *dlink = path_join(root, "linked-dir");
        ck_assert_int_eq(symlink(tmp, dlink), 0);

        struct node *n;
        ck_assert_int_eq(analyze_tree(root, &reference_spec, NULL, &n), 0);
        struct kv kv[64];
        size_t k;
        compare_with_script(n, root, kv, &k, ELEMENTSOF(kv));
        ck_assert_int_eq(at_int(n, "syntax.errors"), 4);
        ck_assert_int_eq(at_int(n, "syntax.files_with_errors"), 3);
        double rate = round(10000.0 * 4.0 / (double) at_int(n, "loc.total")) / 10000.0;
        ck_assert_double_eq_tol(at_double(n, "syntax.rate"), rate, 1e-9);
        ck_assert(!at_bool(n, "success_criteria.syntax_clean"));
        node_free(n);
        struct analyze_thresholds t = ANALYZE_THRESHOLDS_DEFAULT;
        t.syntax_errors_max = 4;
        ck_assert_int_eq(analyze_tree(root, &reference_spec, &t, &n), 0);
        ck_assert(at_bool(n, "success_criteria.syntax_clean"));
        node_free(n);

        ck_assert_int_eq(rm_rf(tmp), 0);
        free(users);
        free(fenced);
        free(tt);
        free(prose);
        free(link);
        free(target);
        free(dlink);
        free(root);
        free(tmp);
        free(src);
        strbuf_free(&cmd);
}
END_TEST

START_TEST(test_tree_limits) {
        struct node *n = NULL;
        ck_assert_int_eq(analyze_tree("/nonexistent/codegend", NULL, NULL, &n), -ENOENT);
        ck_assert_ptr_null(n);

        char *tmp = test_tmpdir();
        /* a large data file is counted without being read; a large Python file is refused */
        char *big = path_join(tmp, "app.db");
        int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, ANALYZE_FILE_MAX + 1), 0);
        close(fd);
        put(tmp, "a.py", "x = 1\n");
        ck_assert_int_eq(analyze_tree(tmp, NULL, NULL, &n), 0);
        ck_assert_int_eq(at_int(n, "files.total"), 2);
        ck_assert_int_eq(at_int(n, "files.by_type.other"), 1);
        ck_assert_int_eq(at_int(n, "loc.total"), 1);
        /* no functions, no error handling: those criteria cannot hold */
        ck_assert_str_eq(at(n, "quality.type_hint_coverage")->value, "0.0");
        ck_assert(!at_bool(n, "success_criteria.type_hints"));
        ck_assert(!at_bool(n, "success_criteria.error_handling"));
        node_free(n);
        n = NULL;
        char *bigpy = path_join(tmp, "huge.py");
        ck_assert_int_eq(rename(big, bigpy), 0);
        ck_assert_int_eq(analyze_tree(tmp, NULL, NULL, &n), -EFBIG);
        ck_assert_ptr_null(n);
        ck_assert_int_eq(unlink(bigpy), 0);

        /* smaller limits (the defaults are too large to reach quickly) */
        struct analyze_limits lim = { .max_files = 3, .max_file_size = 10 };
        put(tmp, "b/c.py", "y = 2\n");
        put(tmp, "b/d.txt", "0123456789abc\n");
        ck_assert_int_eq(analyze_tree_limited(tmp, NULL, NULL, &lim, &n), 0);
        ck_assert_int_eq(at_int(n, "files.total"), 3);
        ck_assert_int_eq(at_int(n, "loc.total"), 2); /* d.txt unread */
        node_free(n);
        n = NULL;
        put(tmp, "b/e.md", "# e\n");
        ck_assert_int_eq(analyze_tree_limited(tmp, NULL, NULL, &lim, &n), -E2BIG);
        ck_assert_ptr_null(n);
        put(tmp, "b/e.md", "");
        put(tmp, "b/c.py", "y = 2  # a comment past the limit\n");
        lim.max_files = 10;
        ck_assert_int_eq(analyze_tree_limited(tmp, NULL, NULL, &lim, &n), -EFBIG);
        ck_assert_ptr_null(n);
        ck_assert_int_eq(rm_rf(tmp), 0);
        free(bigpy);
        free(big);
        free(tmp);
}
END_TEST

START_TEST(test_project_figures) {
        struct file_metrics f[4];
        ck_assert_int_eq(analyze_str("src/services/a.py", "def f() -> None:\n    \"\"\"Doc.\"\"\"\n    return None\n", &f[0]), 0);
        ck_assert_int_eq(analyze_str("src/api/routes/a.py", "@r.get('/api/users/{user_id}/')\ndef g(x) -> None:\n    raise E\n", &f[1]), 0);
        ck_assert_int_eq(analyze_str("src/models/m.py", "class User(Base):\n    x = 1\ny = (\n", &f[2]), 0);
        ck_assert_int_eq(analyze_str("README.md", "# x\n", &f[3]), 0);
        struct node *n;
        ck_assert_int_eq(analyze_project(f, 4, &reference_spec, NULL, &n), 0);
        ck_assert_int_eq(at_int(n, "files.total"), 4);
        ck_assert_int_eq(at_int(n, "loc.total"), 10);
        ck_assert_int_eq(at_int(n, "loc.by_type.models"), 3);
        ck_assert_int_eq(at_int(n, "syntax.errors"), 1);
        ck_assert_str_eq(at(n, "syntax.rate")->value, "0.1");
        ck_assert_str_eq(at(n, "quality.type_hint_coverage")->value, "0.5");
        /* candidates: 3 modules + 2 functions + 1 class; docstrings: 1 */
        ck_assert_str_eq(at(n, "quality.docstring_coverage")->value, "0.1667");
        /* the service has no raise/try: error handling fails */
        ck_assert(!at_bool(n, "success_criteria.error_handling"));
        /* the ORM class survives the syntax error; one endpoint matches through /api */
        ck_assert_int_eq(at_int(n, "quality.entities.found"), 1);
        ck_assert_int_eq(at_int(n, "quality.endpoints.found"), 1);
        ck_assert(!at_bool(n, "success_criteria.entities_and_endpoints"));
        node_free(n);
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                file_metrics_clear(&f[i]);
}
END_TEST

/* Route modules that leave errors to the application's exception handlers (no try/except
 * of their own) handle them when the project registers a handler; services still must
 * raise. */
START_TEST(test_error_handlers) {
        static const char *const route = "@router.get('/api/users')\ndef g() -> None:\n    return None\n";
        static const char *const service = "def f() -> None:\n    raise NotFoundError('x')\n";
        static const char *const quiet = "def f() -> None:\n    return None\n";
        static const char *const mains[] = {
                "app.add_exception_handler(DomainError, handler)\n",
                "@app.exception_handler(DomainError)\nasync def h(r, e):\n    return None\n",
                "x = 1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(mains); i++)
                for (int raising = 0; raising < 2; raising++) {
                        struct file_metrics f[3];
                        struct node *n;
                        ck_assert_int_eq(analyze_str("src/api/routes/users.py", route, &f[0]), 0);
                        ck_assert_int_eq(analyze_str("src/services/user.py", raising ? service : quiet, &f[1]), 0);
                        ck_assert_int_eq(analyze_str("src/main.py", mains[i], &f[2]), 0);
                        ck_assert_int_eq(analyze_project(f, 3, NULL, NULL, &n), 0);
                        ck_assert_int_eq(at_int(n, "quality.error_handling.exception_handlers"), i < 2 ? 1 : 0);
                        ck_assert_msg(at_bool(n, "success_criteria.error_handling") == (raising && i < 2),
                                      "main %zu, service raising %d", i, raising);
                        node_free(n);
                        for (size_t j = 0; j < ELEMENTSOF(f); j++)
                                file_metrics_clear(&f[j]);
                }
}
END_TEST

START_TEST(test_python_version) {
        /* 3.12 syntax is an error for 3.11 (the default) and valid for 3.12 */
        static const char *const py312[] = {
                "type Point = tuple[float, float]\n",
                "x = f\"{\"a\"}\"\n",
                "x = f'{\"\\n\".join(a)}'\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(py312); i++) {
                struct file_metrics m;
                ck_assert_int_eq(analyze_str("a.py", py312[i], &m), 0);
                ck_assert_msg(m.errors.count == 1, "3.11: %s", py312[i]);
                file_metrics_clear(&m);
                ck_assert_int_eq(analyze_source_for("a.py", py312[i], strlen(py312[i]), 12, &m), 0);
                ck_assert_msg(m.errors.count == 0, "3.12: %s: %s", py312[i], m.errors.n ? m.errors.v[0].message : "");
                file_metrics_clear(&m);
        }
        /* `type(...)` starting a statement is a call in every version */
        struct file_metrics m;
        ck_assert_int_eq(analyze_str("a.py", "type(self).x = 1\ntype(self)[k] = 2\n", &m), 0);
        ck_assert_int_eq(m.errors.count, 0);
        file_metrics_clear(&m);

        unsigned minor = 0;
        ck_assert_int_eq(analyze_parse_python_version("3.12", &minor), 0);
        ck_assert_uint_eq(minor, 12);
        ck_assert_int_eq(analyze_parse_python_version("3.8", &minor), 0);
        ck_assert_uint_eq(minor, 8);
        static const char *const bad[] = { "3.7", "2.7", "3", "3.", "3.x", "3.11.2", "4.0", "3.99", "", " 3.11" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(analyze_parse_python_version(bad[i], &minor) == -EINVAL, "%s", bad[i]);
        char buf[8];
        ck_assert_str_eq(analyze_python_version(0, buf), "3.11");
        ck_assert_str_eq(analyze_python_version(13, buf), "3.13");

        struct analyze_thresholds th = ANALYZE_THRESHOLDS_DEFAULT;
        struct node *n;
        ck_assert_int_eq(analyze_thresholds_to_node(&th, &n), 0);
        ck_assert_str_eq(at(n, "python_version")->value, "3.11");
        node_free(n);
}
END_TEST

/* Coding declarations name Python codecs: the common ones, in Python's spellings, reach
 * iconv; unknown ones are one error on line 1, as CPython reports them. */
START_TEST(test_coding_names) {
        static const char *const known[] = {
                "latin-1", "Latin_1", "iso-8859-15", "iso8859_15", "cp1252", "1252", "windows-1251",
                "koi8-r", "koi8_u", "ascii", "us-ascii", "euc-jp", "shift_jis", "shiftjis", "sjis",
                "cp932", "gbk", "gb2312", "gb18030", "big5", "euc-kr", "mac-roman", "macroman",
                "latin", "utf8", "UTF-8", "utf-8-sig", "l9", "cp437", "cp850",
        };
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                char *src;
                ck_assert_int_ge(asprintf(&src, "#!/usr/bin/python\n# -*- coding: %s -*-\nx = 'abc'\n", known[i]), 0);
                struct file_metrics m;
                ck_assert_int_eq(analyze_str("a.py", src, &m), 0);
                ck_assert_msg(m.errors.count == 0, "%s: %s", known[i], m.errors.n ? m.errors.v[0].message : "");
                file_metrics_clear(&m);
                free(src);
        }
        struct file_metrics m;
        ck_assert_int_eq(analyze_str("a.py", "# vim: set fileencoding=klingon :\nx = 1\n", &m), 0);
        ck_assert_int_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 1);
        ck_assert_str_eq(m.errors.v[0].message, "unknown encoding in the coding declaration");
        file_metrics_clear(&m);
        /* declared on line 2 after code: not a declaration, the file is UTF-8 */
        ck_assert_int_eq(analyze_str("a.py", "x = 1\n# coding: klingon\n", &m), 0);
        ck_assert_int_eq(m.errors.count, 0);
        file_metrics_clear(&m);
        /* undecodable: one error at the byte, nothing else */
        ck_assert_int_eq(analyze_str("a.py", "# coding: ascii\nx = (\ny = 'caf\xc3\xa9'\n", &m), 0);
        ck_assert_int_eq(m.errors.count, 1);
        ck_assert_uint_eq(m.errors.v[0].line, 3);
        ck_assert_uint_eq(m.errors.v[0].column, 9);
        file_metrics_clear(&m);
}
END_TEST

/* Checks that exist in pyast, each seen to fire with CPython's message and to stay quiet
 * on the valid look-alike (the corpus only compares "refused or not"). */
START_TEST(test_named_syntax_checks) {
        static const struct {
                const char *src, *message; /* NULL: compiles; "": any error */
        } cases[] = {
                { "def f(xs):\n    async for x in xs:\n        pass\n", "'async for' outside async function" },
                { "async def f(xs):\n    async for x in xs:\n        pass\n", NULL },
                { "async for x in xs:\n    pass\n", "'async for' outside async function" },
                { "def f(xs):\n    return [x async for x in xs]\n",
                  "asynchronous comprehension outside of an asynchronous function" },
                { "async def f(xs):\n    return [x async for x in xs]\n", NULL },
                { "xs = {x: 1 async for x in ys}\n", "asynchronous comprehension outside of an asynchronous function" },
                { "async def f(xs):\n    return lambda: [x async for x in xs]\n",
                  "asynchronous comprehension outside of an asynchronous function" },
                { "def f(a, **kw, b=1):\n    pass\n", "arguments cannot follow var-keyword argument" },
                { "def f(a, **kw: int, b: int):\n    pass\n", "arguments cannot follow var-keyword argument" },
                { "g = lambda **kw, b: kw\n", "arguments cannot follow var-keyword argument" },
                { "def f(a, *args, b=1, **kw):\n    pass\n", NULL },
                { "x = 1000L\n", "invalid decimal literal" },
                { "x = 1000l\n", "invalid decimal literal" },
                { "x = 1_000_\n", "invalid decimal literal" },
                { "x = 1__000\n", "" }, /* tree-sitter's own error: refused all the same */
                { "x = 1000j + 1_000 + 0x1F + 1e3 + 0o17 + 00\n", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct file_metrics m;
                ck_assert_int_eq(analyze_str("src/a.py", cases[i].src, &m), 0);
                if (!cases[i].message)
                        ck_assert_msg(m.errors.count == 0, "case %zu: unexpected error: %s", i,
                                      m.errors.n ? m.errors.v[0].message : "?");
                else {
                        ck_assert_msg(m.errors.count >= 1 && m.errors.n >= 1, "case %zu: no error", i);
                        ck_assert_msg(strstr(m.errors.v[0].message, cases[i].message),
                                      "case %zu: '%s' is not '%s'", i, m.errors.v[0].message, cases[i].message);
                }
                file_metrics_clear(&m);
        }
}
END_TEST

/* loc_at_least_1000 is true from exactly loc_min non-blank lines on */
START_TEST(test_loc_threshold_boundary) {
        static const size_t counts[] = { 999, 1000, 1001 };
        for (size_t c = 0; c < ELEMENTSOF(counts); c++) {
                struct strbuf src;
                strbuf_init(&src, 0);
                for (size_t i = 0; i < counts[c]; i++)
                        ck_assert_int_eq(strbuf_addf(&src, "x%zu = %zu\n\n", i, i), 0);
                struct file_metrics f;
                ck_assert_int_eq(analyze_str("src/a.py", strbuf_str(&src), &f), 0);
                struct node *n;
                ck_assert_int_eq(analyze_project(&f, 1, &reference_spec, NULL, &n), 0);
                ck_assert_int_eq(at_int(n, "loc.total"), (long long) counts[c]);
                ck_assert_msg(at_bool(n, "success_criteria.loc_at_least_1000") == (counts[c] >= 1000),
                              "%zu lines", counts[c]);
                node_free(n);
                /* a configured threshold is met at exactly its value too */
                struct analyze_thresholds th = ANALYZE_THRESHOLDS_DEFAULT;
                th.loc_min = counts[c];
                ck_assert_int_eq(analyze_project(&f, 1, &reference_spec, &th, &n), 0);
                ck_assert(at_bool(n, "success_criteria.loc_at_least_1000"));
                node_free(n);
                th.loc_min = counts[c] + 1;
                ck_assert_int_eq(analyze_project(&f, 1, &reference_spec, &th, &n), 0);
                ck_assert(!at_bool(n, "success_criteria.loc_at_least_1000"));
                node_free(n);
                file_metrics_clear(&f);
                strbuf_free(&src);
        }
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("analyze");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_corpus_agrees_with_cpython);
        tcase_add_test(tc, test_error_positions_and_excerpts);
        tcase_add_test(tc, test_errors_counted_once);
        tcase_add_test(tc, test_deep_nesting);
        tcase_add_test(tc, test_quality_matches_ast);
        tcase_add_test(tc, test_quality_details);
        tcase_add_test(tc, test_routes_and_prefixes);
        tcase_add_test(tc, test_classification);
        tcase_add_test(tc, test_loc);
        tcase_add_test(tc, test_tree_matches_ast);
        tcase_add_test(tc, test_tree_with_injected_mistakes);
        tcase_add_test(tc, test_tree_limits);
        tcase_add_test(tc, test_project_figures);
        tcase_add_test(tc, test_error_handlers);
        tcase_add_test(tc, test_python_version);
        tcase_add_test(tc, test_coding_names);
        tcase_add_test(tc, test_named_syntax_checks);
        tcase_add_test(tc, test_loc_threshold_boundary);
        suite_add_tcase(s, tc);
        return s;
}
