/* test-pattern.c - the pattern backend: its checks, the template bank and its
 * overrides, the context's derived values, and the whole reference project rendered
 * (every atom, shared route targets merged) into a temporary directory. The Python
 * checks of the rendered projects (pytest, pyflakes, mypy, alembic) are the e2e tests'. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "check-main.h"
#include "backend/pattern/context.h"
#include "format/dag.h"
#include "format/doc.h"
#include "analysis/merge.h"
#include "shared/fs.h"
#include "shared/strbuf.h"
#include "format/spec.h"

struct job {
        struct node *spec_doc, *dag_doc;
        struct spec *spec;
        struct dag *dag;
        struct diags d;
};

static void job_clear(struct job *j) {
        node_free(j->spec_doc);
        node_free(j->dag_doc);
        spec_free(j->spec);
        dag_free(j->dag);
        diags_clear(&j->d);
        memset(j, 0, sizeof(*j));
}

static char *src_path(const char *rel) {
        return path_join(test_srcdir(), rel);
}

static void dump_diags(const struct diags *d) {
        diags_print(d, stderr);
}

/* Loads a spec (file or text) and a DAG (file, or planned when NULL); dag_check()ed. */
static void job_load(struct job *j, const char *spec_file, const char *spec_text,
                     const char *dag_file) {
        memset(j, 0, sizeof(*j));
        j->d = (struct diags) DIAGS_INIT;
        if (spec_file) {
                char *p = src_path(spec_file);
                ck_assert_int_eq(doc_load(p, "spec.yaml", 1 << 20, &j->spec_doc, &j->d), 0);
                free(p);
        } else
                ck_assert_int_eq(doc_parse_yaml(spec_text, strlen(spec_text), "spec.yaml",
                                                &j->spec_doc, &j->d), 0);
        int r = spec_from_node(j->spec_doc, "spec.yaml", &j->spec, &j->d);
        if (r < 0)
                dump_diags(&j->d);
        ck_assert_int_eq(r, 0);
        if (dag_file) {
                char *p = src_path(dag_file);
                ck_assert_int_eq(doc_load(p, "dag.json", 1 << 20, &j->dag_doc, &j->d), 0);
                free(p);
                ck_assert_int_eq(dag_from_node(j->dag_doc, "dag.json", &j->dag, &j->d), 0);
        } else
                ck_assert_int_eq(plan_from_spec(j->spec, &j->dag), 0);
        r = dag_check(j->dag, j->spec, dag_file ? "dag.json" : "(planned)", 1000, &j->d);
        if (r < 0)
                dump_diags(&j->d);
        ck_assert_int_eq(r, 0);
}

/* The spec and DAG of a small job given as text; the DAG is checked with dag_check(). */
static void job_load_text(struct job *j, const char *spec_text, const char *dag_json) {
        memset(j, 0, sizeof(*j));
        j->d = (struct diags) DIAGS_INIT;
        ck_assert_int_eq(doc_parse_yaml(spec_text, strlen(spec_text), "spec.yaml", &j->spec_doc, &j->d), 0);
        ck_assert_int_eq(spec_from_node(j->spec_doc, "spec.yaml", &j->spec, &j->d), 0);
        ck_assert_int_eq(doc_parse_json(dag_json, strlen(dag_json), "dag.json", &j->dag_doc, &j->d), 0);
        ck_assert_int_eq(dag_from_node(j->dag_doc, "dag.json", &j->dag, &j->d), 0);
        int r = dag_check(j->dag, j->spec, "dag.json", 1000, &j->d);
        if (r < 0)
                dump_diags(&j->d);
        ck_assert_int_eq(r, 0);
}

static struct backend_options builtin_options(void) {
        return (struct backend_options) { .datadir = test_srcdir() };
}

static bool has_diag(const struct diags *d, const char *file, const char *path, const char *msg) {
        for (size_t i = 0; i < d->n; i++)
                if (streq_ptr(d->v[i].file, file) && streq_ptr(d->v[i].path, path) &&
                    streq(d->v[i].message, msg))
                        return true;
        return false;
}

/* Generates one atom; returns its text (NULL on failure, with *ret_error). */
static char *gen(const struct job *j, const struct backend_options *o, const struct atom *a,
                 int *ret_r, char **ret_error) {
        struct gen_request req = { .spec = j->spec, .dag = j->dag, .atom = a, .options = o };
        struct gen_usage u = { 0 };
        struct strbuf out;
        strbuf_init(&out, 16 << 20);
        *ret_error = NULL;
        *ret_r = backend_pattern.generate(&req, &out, &u, ret_error);
        ck_assert_uint_eq(u.calls, 0);
        if (*ret_r < 0) {
                strbuf_free(&out);
                return NULL;
        }
        return strbuf_detach(&out, NULL);
}

static const struct atom *find_atom(const struct dag *dag, const char *id) {
        const struct atom *a = dag_find_atom(dag, id);
        ck_assert_msg(a != NULL, "no atom %s", id);
        return a;
}

static size_t non_blank_lines(const char *s) {
        size_t n = 0;
        bool blank = true;
        for (; *s; s++) {
                if (*s == '\n') {
                        n += !blank;
                        blank = true;
                } else if (*s != ' ' && *s != '\t' && *s != '\r')
                        blank = false;
        }
        return n + !blank;
}

struct rendered {
        size_t files;
        size_t lines;
};

/* Renders every atom of a job and writes the project under dir, merging the
 * fragments of shared targets in the plan's order as the daemon does. */
static struct rendered render_all(const struct job *j, const char *dir) {
        struct backend_options o = builtin_options();
        const struct dag *g = j->dag;
        char **texts = calloc(g->n_atoms, sizeof(char *));
        size_t *lens = calloc(g->n_atoms, sizeof(size_t));
        struct rendered res = { 0, 0 };
        ck_assert_ptr_nonnull(texts);
        ck_assert_ptr_nonnull(lens);

        for (size_t i = 0; i < g->n_atoms; i++) {
                int r;
                char *err;
                texts[i] = gen(j, &o, &g->atoms[i], &r, &err);
                ck_assert_msg(r == 0, "atom %s: %s", g->atoms[i].id, err ? err : "?");
                lens[i] = strlen(texts[i]);
                ck_assert_msg(lens[i] > 0, "atom %s rendered nothing", g->atoms[i].id);
                free(err);
        }
        for (size_t o2 = 0; o2 < g->n_atoms; o2++) {
                const struct atom *a = &g->atoms[g->order[o2]];
                if (a->fragment_index != 0)
                        continue;
                const char *frags[16];
                size_t fl[16], n = 0;
                for (size_t k = 0; k < g->n_atoms; k++) {
                        size_t idx = g->order[k];
                        if (streq(g->atoms[idx].target, a->target)) {
                                ck_assert_uint_lt(n, 16);
                                frags[n] = texts[idx];
                                fl[n++] = lens[idx];
                        }
                }
                ck_assert_uint_eq(n, a->fragment_count ? a->fragment_count : 1);
                struct strbuf out;
                strbuf_init(&out, 16 << 20);
                if (n == 1)
                        ck_assert_int_eq(strbuf_add(&out, frags[0], fl[0]), 0);
                else
                        ck_assert_int_eq(merge_fragments(a->target, frags, fl, n, &out), 0);
                char *path = path_join(dir, a->target);
                char *parent = strdup(path);
                *strrchr(parent, '/') = '\0';
                ck_assert_int_eq(mkdir_p(parent, 0755), 0);
                ck_assert_int_eq(write_file_atomic(path, out.buf, out.len, 0644), 0);
                ck_assert_msg(out.len > 0, "%s is empty", a->target);
                res.files++;
                res.lines += non_blank_lines(strbuf_str(&out));
                free(path);
                free(parent);
                strbuf_free(&out);
        }
        for (size_t i = 0; i < g->n_atoms; i++)
                free(texts[i]);
        free(texts);
        free(lens);
        return res;
}

static char *read_rel(const char *dir, const char *rel) {
        char *p = path_join(dir, rel), *buf = NULL;
        size_t len;
        ck_assert_int_eq(read_file_bounded(p, 16 << 20, &buf, &len), 0);
        free(p);
        return buf;
}

/* ---- tests ---- */

START_TEST(test_backend_table) {
        const struct backend *b = backend_find("pattern");
        ck_assert_ptr_eq(b, &backend_pattern);
        ck_assert_str_eq(b->name, "pattern");
        ck_assert(b->deterministic);
        ck_assert_ptr_eq(backend_find("anthropic"), &backend_anthropic);
        ck_assert_ptr_eq(backend_find("openai"), &backend_openai);
        ck_assert(!backend_find("openai")->deterministic);
        ck_assert_ptr_null(backend_find("Pattern"));
        ck_assert_ptr_null(backend_find(NULL));
}
END_TEST

START_TEST(test_reference_project) {
        struct job j;
        job_load(&j, "spool-example/taskmanager/spec.yaml", NULL, "spool-example/taskmanager/dag.json");
        struct backend_options o = builtin_options();
        int r = backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d);
        if (r < 0)
                dump_diags(&j.d);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(j.d.n, 0);

        /* route fragments: the first defines the router, every one has its handler */
        static const char *const routes[][2] = {
                { "route_user_list", "def list_users(" },   { "route_user_create", "def create_user(" },
                { "route_user_get", "def get_user(" },       { "route_user_update", "def update_user(" },
                { "route_user_delete", "def delete_user(" }, { "route_task_list", "def list_tasks(" },
                { "route_task_update", "def update_task(" },
        };
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct atom *a = find_atom(j.dag, routes[i][0]);
                char *err;
                char *text = gen(&j, &o, a, &r, &err);
                ck_assert_msg(r == 0, "%s: %s", a->id, err ? err : "?");
                ck_assert_msg(strstr(text, routes[i][1]), "%s lacks %s", a->id, routes[i][1]);
                ck_assert_int_eq(strstr(text, "router = APIRouter(") != NULL, a->fragment_index == 0);
                ck_assert_int_eq(strstr(text, "from fastapi import APIRouter") != NULL ||
                                         strstr(text, "APIRouter,") != NULL,
                                 a->fragment_index == 0);
                free(text);
        }
        const struct atom *filt = find_atom(j.dag, "route_task_list");
        char *err;
        char *text = gen(&j, &o, filt, &r, &err);
        /* Annotated parameters, laid out as black does: too long for one line, the
         * subscript's items on one indented line */
        ck_assert_ptr_nonnull(strstr(text, "    db: DbSession,\n    limit: Annotated[int, Query("));
        ck_assert_ptr_nonnull(strstr(text, "    status: Annotated[\n        Optional[TaskStatus], Query(description="));
        ck_assert_ptr_nonnull(strstr(text, "    owner_id: Annotated[\n        Optional[int], Query(description="));
        free(text);

        char *dir = test_tmpdir();
        struct rendered res = render_all(&j, dir);
        ck_assert_uint_ge(res.files, 40);
        ck_assert_uint_ge(res.lines, 1000);
        for (size_t i = 0; i < j.dag->n_atoms; i++) {
                char *p = path_join(dir, j.dag->atoms[i].target);
                ck_assert_msg(is_regular(p), "%s missing", j.dag->atoms[i].target);
                free(p);
        }

        char *routes_py = read_rel(dir, "src/api/routes/users.py");
        ck_assert_ptr_nonnull(strstr(routes_py, "\"\"\"HTTP routes of User"));
        const char *router = strstr(routes_py, "router = APIRouter(");
        ck_assert_ptr_nonnull(router);
        ck_assert_ptr_null(strstr(router + 1, "router = APIRouter("));
        for (const char *h = "list_users\0create_user\0get_user\0update_user\0delete_user\0"; *h;
             h += strlen(h) + 1) {
                char want[64];
                snprintf(want, sizeof(want), "def %s(", h);
                ck_assert_msg(strstr(routes_py, want), "users.py lacks %s", want);
        }
        ck_assert_ptr_nonnull(strstr(routes_py, "@router.patch("));
        ck_assert_ptr_nonnull(strstr(routes_py, "status_code=201"));
        ck_assert_ptr_nonnull(strstr(routes_py, "status_code=204"));
        free(routes_py);

        char *model = read_rel(dir, "src/models/user.py");
        ck_assert_ptr_nonnull(strstr(model, "__tablename__ = \"users\""));
        ck_assert_ptr_nonnull(strstr(model, "email: Mapped[str] = mapped_column(sa.String(320), nullable=False)"));
        /* e-mails are unique whatever their case; defaults are NOT NULL with a server default */
        ck_assert_ptr_nonnull(strstr(model, "\nsa.Index(\"ix_users_email_lower\", sa.func.lower(User.email), unique=True)\n"));
        ck_assert_ptr_nonnull(strstr(model, "    role: Mapped[str] = mapped_column(\n"
                                            "        sa.Enum(\"admin\", \"member\", name=\"role_enum\", native_enum=False, create_constraint=True),\n"
                                            "        nullable=False,\n"
                                            "        default=\"member\",\n"
                                            "        server_default=\"member\",\n"
                                            "    )\n"));
        ck_assert_ptr_nonnull(strstr(model, "    tasks = orm.relationship(\n        \"Task\",\n        back_populates=\"owner\",\n"));
        free(model);
        char *task = read_rel(dir, "src/models/task.py");
        ck_assert_ptr_nonnull(strstr(task, "sa.ForeignKey(\"users.id\", ondelete=\"CASCADE\"), nullable=False"));
        free(task);

        char *rules = read_rel(dir, "src/validations/task.py");
        ck_assert_ptr_nonnull(strstr(rules, "raise ValidationFailed(\"illegal status change\", \"status\")"));
        ck_assert_ptr_nonnull(strstr(rules, "\"in_progress\": (\"todo\", \"done\"),"));
        ck_assert_ptr_nonnull(strstr(rules, "\"todo\": (\"in_progress\",),"));
        /* a new task starts at the default or where the rule allows from it */
        ck_assert_ptr_nonnull(strstr(rules, "_TASK_STATUS_TRANSITIONS_INITIAL: Tuple[str, ...] = (\"todo\", \"in_progress\")"));
        ck_assert_ptr_nonnull(strstr(rules, "raise ValidationFailed(\"owner does not exist\", \"owner_id\")"));
        free(rules);

        char *mig = read_rel(dir, "migrations/versions/001_initial.py");
        const char *users = strstr(mig, "op.create_table(\n        \"users\"");
        const char *tasks = strstr(mig, "op.create_table(\n        \"tasks\"");
        ck_assert(users && tasks && users < tasks);
        const char *drop_tasks = strstr(mig, "op.drop_table(\"tasks\")");
        const char *drop_users = strstr(mig, "op.drop_table(\"users\")");
        ck_assert(drop_tasks && drop_users && drop_tasks < drop_users);
        free(mig);

        char *tests = read_rel(dir, "tests/test_validations.py");
        ck_assert_ptr_nonnull(strstr(tests, "def test_check_task_status_transitions_rejects("));
        ck_assert_ptr_nonnull(strstr(tests, "def test_check_task_status_transitions_accepts("));
        ck_assert_ptr_nonnull(strstr(tests, "def test_check_user_email_unique_rejects("));
        free(tests);
        /* the rules through the API; the errors each operation documents */
        char *api_tests = read_rel(dir, "tests/test_tasks.py");
        ck_assert_ptr_nonnull(strstr(api_tests, "def test_check_task_status_transitions_on_create_rejects("));
        ck_assert_ptr_nonnull(strstr(api_tests, "    payload[\"status\"] = \"done\"\n"));
        ck_assert_ptr_nonnull(strstr(api_tests, "def test_check_task_due_date_not_in_past_on_update_keeps_a_stored_value("));
        ck_assert_ptr_nonnull(strstr(api_tests, "def test_check_task_owner_id_exists_on_update_rejects("));
        ck_assert_ptr_nonnull(strstr(api_tests, "    assert errors == {\"404\", \"422\", \"500\"}\n"));
        ck_assert_ptr_nonnull(strstr(api_tests, "    assert errors == {\"400\", \"404\", \"422\", \"500\"}\n"));
        /* the concurrent updates: in_progress may move to todo and to done, neither to the other */
        ck_assert_ptr_nonnull(strstr(api_tests, "def test_check_task_status_transitions_serializes_concurrent_updates("));
        ck_assert_ptr_nonnull(strstr(api_tests, "    item.status = \"in_progress\"\n"));
        ck_assert_ptr_nonnull(strstr(api_tests, "    targets = [\n        \"todo\",\n        \"done\",\n"));
        ck_assert_ptr_nonnull(strstr(api_tests, "def test_update_task_refuses_a_body_that_is_not_json("));
        free(api_tests);
        char *user_routes = read_rel(dir, "src/api/routes/users.py");
        ck_assert_ptr_nonnull(strstr(user_routes, "responses=error_responses(400, 409, 422, 500),"));
        ck_assert_ptr_nonnull(strstr(user_routes, "responses=error_responses(400, 404, 409, 422, 500),"));
        ck_assert_ptr_null(strstr(user_routes, "try:"));
        free(user_routes);
        char *pyproject = read_rel(dir, "pyproject.toml");
        ck_assert_ptr_nonnull(strstr(pyproject, "[tool.pytest.ini_options]\npythonpath = [\".\"]"));
        free(pyproject);

        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
        job_clear(&j);
}
END_TEST

START_TEST(test_library_planned) {
        struct job j;
        job_load(&j, "tests/data/specs/pattern-library.yaml", NULL, NULL);
        struct backend_options o = builtin_options();
        int r = backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d);
        if (r < 0)
                dump_diags(&j.d);
        ck_assert_int_eq(r, 0);

        char *dir = test_tmpdir();
        struct rendered res = render_all(&j, dir);
        ck_assert_uint_ge(res.files, 50);

        char *book = read_rel(dir, "src/models/book.py");
        ck_assert_ptr_nonnull(strstr(book, "metadata_: Mapped[Any | None] = mapped_column(\"metadata\", sa.JSON(), nullable=True)"));
        ck_assert_ptr_nonnull(strstr(book, "books_tags = sa.Table("));
        ck_assert_ptr_nonnull(strstr(book, "tags = orm.relationship(\"Tag\", back_populates=\"books\", secondary=\"books_tags\")"));
        ck_assert_ptr_nonnull(strstr(book, "    price: Mapped[decimal.Decimal] = mapped_column(\n"
                                           "        sa.Numeric(12, 2),\n"
                                           "        sa.CheckConstraint('\"price\" >= 0', name=\"price_range\"),\n"
                                           "        nullable=False,\n"
                                           "        default=decimal.Decimal(\"9.99\"),\n"
                                           "        server_default=sa.text(\"9.99\"),\n"
                                           "    )\n"));
        free(book);
        char *tag = read_rel(dir, "src/models/tag.py");
        ck_assert_ptr_null(strstr(tag, "sa.Table(")); /* defined once, with Book */
        free(tag);
        char *cat = read_rel(dir, "src/models/category.py");
        ck_assert_ptr_nonnull(strstr(cat, "remote_side=\"Category.id\""));
        free(cat);
        char *author = read_rel(dir, "src/models/author.py");
        ck_assert_ptr_nonnull(strstr(author, "        uselist=False,\n        foreign_keys=\"[AuthorProfile.author_id]\",\n"));
        free(author);

        char *schema = read_rel(dir, "src/api/schemas/book.py");
        ck_assert_ptr_nonnull(strstr(schema, "metadata_: Optional[Dict[str, Any]] = Field(None, alias=\"metadata\")"));
        ck_assert_ptr_nonnull(strstr(schema, "BookType = Literal[\"hardcover\", \"paperback\", \"ebook\"]"));
        ck_assert_ptr_nonnull(strstr(schema, "public_id: UUID = Field(...)"));
        ck_assert_ptr_nonnull(strstr(schema, "\"metadata\": row.metadata_,"));
        free(schema);
        char *profile = read_rel(dir, "src/api/schemas/author_profile.py");
        ck_assert_ptr_nonnull(strstr(profile, "settings: Dict[str, Any] = Field(default_factory=lambda: {\"theme\": \"light\"})"));
        ck_assert_ptr_nonnull(strstr(profile, "if not re.match(\"^https://\", text):"));
        free(profile);

        char *rules = read_rel(dir, "src/validations/book.py");
        ck_assert_ptr_nonnull(strstr(rules, "_ISBN_REGEX = re.compile(\"^97[89]-[0-9]{10}$\")"));
        ck_assert_ptr_nonnull(strstr(rules, "if value is not None and (value < 0 or value > 5):"));
        ck_assert_ptr_nonnull(strstr(rules, "raise ConflictError(\"public_id already used\", \"public_id\")"));
        free(rules);

        char *mig = read_rel(dir, "migrations/versions/001_initial.py");
        const char *authors = strstr(mig, "\"authors\",\n"), *books = strstr(mig, "\"books\",\n");
        const char *assoc = strstr(mig, "\"books_tags\",\n"), *tags = strstr(mig, "\"tags\",\n");
        ck_assert(authors && books && assoc && tags && authors < books && tags < assoc && books < assoc);
        ck_assert_ptr_nonnull(strstr(mig, "op.create_index(op.f(\"ix_categories_name\"), \"categories\", [\"name\"], unique=True)"));
        /* named constraints: the naming convention's names, final in the migration */
        ck_assert_ptr_nonnull(strstr(mig, "sa.PrimaryKeyConstraint(\"id\", name=op.f(\"pk_books\"))"));
        ck_assert_ptr_nonnull(strstr(mig, "op.create_index(op.f(\"ix_books_author_id\"), \"books\", [\"author_id\"], unique=False)"));
        free(mig);

        char *conftest = read_rel(dir, "tests/conftest.py");
        /* samples derived from the patterns */
        ck_assert_ptr_nonnull(strstr(conftest, "\"isbn\": _BOOK_ISBN_VALUES[n % 10]"));
        ck_assert_ptr_nonnull(strstr(conftest, "\"978-0000000000\","));
        ck_assert_ptr_nonnull(strstr(conftest, "\"author_id\": make_author(db).id,"));
        ck_assert_ptr_nonnull(strstr(conftest, "\"category_id\": None,"));
        free(conftest);

        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
        job_clear(&j);
}
END_TEST

static const char custom_spec[] =
        "format: 1\n"
        "name: shop\n"
        "entities:\n"
        "  - name: Order\n"
        "    fields:\n"
        "      - {name: total, type: decimal}\n"
        "endpoints:\n"
        "  - {entity: Order, operation: list}\n"
        "  - entity: Order\n"
        "    operation: custom\n"
        "    name: refund\n"
        "    method: POST\n"
        "    path: /orders/{id}/refund\n"
        "    description: Refunds the order.\n"
        "validations:\n"
        "  - {entity: Order, rule: custom, field: total, message: m, description: Totals add up.}\n";

START_TEST(test_custom_needs_a_language_model) {
        struct job j;
        job_load(&j, NULL, custom_spec, NULL);
        struct backend_options o = builtin_options();
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "spec.yaml", "endpoints[1]",
                           "endpoint 'refund' is a custom operation: the pattern backend cannot implement it; use a language-model backend"));
        ck_assert(has_diag(&j.d, "spec.yaml", "validations[0]",
                           "rule of 'Order' on field 'total' is a custom rule: the pattern backend cannot implement it; use a language-model backend"));
        for (size_t i = 0; i < j.d.n; i++)
                if (streq_ptr(j.d.v[i].path, "endpoints[1]")) {
                        ck_assert_uint_eq(j.d.v[i].line, 9);
                        ck_assert_uint_eq(j.d.v[i].column, 5);
                }
        /* the custom route atom is reported once, with its endpoint, not as "no pattern" */
        for (size_t i = 0; i < j.d.n; i++)
                ck_assert_ptr_null(strstr(j.d.v[i].message, "no pattern"));
        job_clear(&j);
}
END_TEST

START_TEST(test_atoms_without_pattern) {
        struct job j;
        job_load(&j, "spool-example/taskmanager/spec.yaml", NULL, "spool-example/taskmanager/dag.json");
        struct backend_options o = builtin_options();
        /* retarget two atoms to what the bank has no pattern for */
        struct atom *readme = (struct atom *) find_atom(j.dag, "readme");
        free(readme->target);
        readme->target = strdup("docs/EXTRA.md");
        struct atom *route = (struct atom *) find_atom(j.dag, "route_user_delete");
        free(route->operation);
        route->operation = strdup("archive");
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "dag.json", "atoms[48]",
                           "no pattern for atom 'readme' (kind doc, entity '', operation '', target 'docs/EXTRA.md'); "
                           "the bank writes doc atoms with: any entity, a file named API*.md; any entity, a file named ENTITIES*.md; "
                           "any entity, a file named ARCHITECTURE*.md; any entity, a file named README*"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[21]",
                           "route atom 'route_user_delete' has no endpoint in the spec (entity 'User', operation 'archive')"));
        ck_assert_uint_eq(j.d.n, 2);

        int r;
        char *err;
        char *text = gen(&j, &o, readme, &r, &err);
        ck_assert_ptr_null(text);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_str_eq(err, "no pattern for atom 'readme' (kind doc, target 'docs/EXTRA.md')");
        free(err);
        job_clear(&j);
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text) {
        char *p = path_join(dir, name);
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644), 0);
        free(p);
}

START_TEST(test_patterns_dir_overrides) {
        struct job j;
        job_load(&j, "spool-example/taskmanager/spec.yaml", NULL, "spool-example/taskmanager/dag.json");
        char *dir = test_tmpdir();
        struct backend_options o = { .datadir = test_srcdir(), .patterns_dir = dir };
        int r;
        char *err;

        /* one template overridden, the rest from the built-in bank */
        write_text(dir, "config.py.tmpl", "\"\"\"Team settings of {{project.name}}.\"\"\"\n\nNAME = \"{{project.title}}\"\n");
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), 0);
        char *text = gen(&j, &o, find_atom(j.dag, "config"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(text, "\"\"\"Team settings of taskmanager.\"\"\"\n\nNAME = \"Task Manager API\"\n");
        free(text);
        text = gen(&j, &o, find_atom(j.dag, "database"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "class Base(DeclarativeBase):"));
        free(text);

        /* a broken override is reported with the template's name and line */
        write_text(dir, "config.py.tmpl", "ok\n{{project.nope}}\n");
        text = gen(&j, &o, find_atom(j.dag, "config"), &r, &err);
        ck_assert_ptr_null(text);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_str_eq(err, "config.py.tmpl:2: unknown variable 'project.nope'");
        free(err);

        /* the team's own index.yaml: a missing template and a bad entry */
        write_text(dir, "index.yaml",
                   "patterns:\n"
                   "  - {kind: config, target: src/config.py, template: config.py.tmpl}\n"
                   "  - {kind: database, target: src/database.py, template: nowhere.py.tmpl}\n");
        diags_clear(&j.d);
        j.d = (struct diags) DIAGS_INIT;
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "dag.json", "atoms[1]",
                           "template 'nowhere.py.tmpl' for atom 'database' is not in the pattern bank"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[2]",
                           "no pattern for atom 'src_pkg' (kind package, entity '', operation '', target 'src/__init__.py'); the bank writes package atoms with: none"));
        write_text(dir, "index.yaml", "patterns:\n  - {kind: nonsense, target: x, template: y, colour: red}\n");
        diags_clear(&j.d);
        j.d = (struct diags) DIAGS_INIT;
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        char *index = path_join(dir, "index.yaml");
        ck_assert(has_diag(&j.d, index, "patterns[0]", "unknown key 'colour' (known: kind, entity, operation, file, target, template)"));
        ck_assert(has_diag(&j.d, index, "patterns[0]", "pattern needs a 'kind' that is an atom kind"));
        ck_assert_uint_eq(j.d.v[0].line, 2);
        free(index);

        /* no bank at all */
        struct backend_options none = { .datadir = "/nonexistent" };
        diags_clear(&j.d);
        j.d = (struct diags) DIAGS_INIT;
        ck_assert_int_eq(backend_pattern.check(&none, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "index.yaml", NULL, "no index.yaml in /nonexistent/patterns"));

        ck_assert_int_eq(rm_rf(dir), 0);
        free(dir);
        job_clear(&j);
}
END_TEST

static const char escape_spec[] =
        "format: 1\n"
        "name: quotes\n"
        "title: 'Say \"hi\" \\ now'\n"
        "entities:\n"
        "  - name: Note\n"
        "    fields:\n"
        "      - {name: body, type: text, required: true}\n";

START_TEST(test_python_escaping) {
        struct job j;
        job_load(&j, NULL, escape_spec, NULL);
        struct backend_options o = builtin_options();
        int r;
        char *err;
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d), 0);
        char *text = gen(&j, &o, find_atom(j.dag, "config"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "app_name: str = 'Say \"hi\" \\\\ now'"));
        free(text);
        /* Markdown is not escaped */
        text = gen(&j, &o, find_atom(j.dag, "readme"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "# Say \"hi\" \\ now\n"));
        free(text);
        /* TOML gets its own quoting */
        text = gen(&j, &o, find_atom(j.dag, "pyproject"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "name = \"quotes\""));
        free(text);
        job_clear(&j);
}
END_TEST

static const char hard_spec[] =
        "format: 1\n"
        "name: hard\n"
        "entities:\n"
        "  - name: Egg\n"
        "    fields:\n"
        "      - {name: code, type: string, required: true, pattern: '^(a)\\1$'}\n"
        "      - {name: hen_id, type: foreign_key, target: Hen, required: true}\n"
        "      - {name: data, type: json}\n"
        "      - {name: slot, type: string, unique: true, pattern: '^only$'}\n"
        "      - {name: offset, type: integer}\n"
        "  - name: Hen\n"
        "    fields:\n"
        "      - {name: egg_id, type: foreign_key, target: Egg, required: true}\n"
        "endpoints:\n"
        "  - {entity: Egg, operation: list, filters: [data, offset]}\n";

START_TEST(test_context_check) {
        struct job j;
        job_load(&j, NULL, hard_spec, NULL);
        struct backend_options o = builtin_options();
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "spec.yaml", "entities[0].fields[0]",
                           "cannot derive a test value for field 'code' of 'Egg' from pattern '^(a)\\1$' (lookarounds and back-references are not supported)"));
        ck_assert(has_diag(&j.d, "spec.yaml", "entities[0]",
                           "required foreign keys form a cycle (Egg -> Hen -> Egg): no row of 'Egg' could ever be stored"));
        ck_assert(has_diag(&j.d, "spec.yaml", "entities[1]",
                           "required foreign keys form a cycle (Hen -> Egg -> Hen): no row of 'Hen' could ever be stored"));
        ck_assert(has_diag(&j.d, "spec.yaml", "endpoints[0].filters[0]",
                           "cannot filter on json field 'data': a query parameter holds a single value"));
        ck_assert(has_diag(&j.d, "spec.yaml", "entities[0].fields[3]",
                           "unique field 'slot' of 'Egg' admits only one value, so no second row could be stored"));
        ck_assert(has_diag(&j.d, "spec.yaml", "endpoints[0].filters[1]",
                           "cannot filter on field 'offset': the query parameter 'offset' is the list's pagination"));
        ck_assert_uint_eq(j.d.n, 6);
        job_clear(&j);
}
END_TEST

static void expect_sample(const char *pattern, unsigned variant, size_t min, size_t max,
                          const char *want) {
        char *got = NULL;
        int r = context_regex_sample(pattern, variant, min, max, &got);
        ck_assert_msg(r == 0, "pattern %s: %d", pattern, r);
        ck_assert_str_eq(got, want);
        free(got);
}

START_TEST(test_regex_samples) {
        expect_sample("^[A-Z]{3}-\\d{4}$", 0, 0, 100, "AAA-0000");
        expect_sample("^[A-Z]{3}-\\d{4}$", 1, 0, 100, "BBB-1111");
        expect_sample("^(cat|dog)s?$", 0, 0, 100, "cat");
        expect_sample("^(cat|dog)s?$", 1, 0, 100, "dog");
        expect_sample("^[a-z]+$", 0, 5, 10, "aaaaa");
        expect_sample("^[^0-9]$", 0, 0, 10, "a");
        expect_sample("^\\+?[0-9]{7,15}$", 2, 0, 100, "2222222");
        expect_sample("^97[89]-[0-9]{10}$", 0, 0, 100, "978-0000000000");
        expect_sample("(?i)^(?P<word>x|y)\\.z{2,}$", 0, 0, 100, "x.zz");
        expect_sample("^a.c\\$$", 0, 0, 100, "aac$");
        expect_sample("^[\\w.-]+@example\\.com$", 0, 0, 100, "a@example.com");
        expect_sample("x{,2}y", 0, 2, 100, "xy");
        expect_sample("{1}", 0, 0, 100, "{1}");

        char *got = NULL;
        ck_assert_int_eq(context_regex_sample("^(?=x)x$", 0, 0, 10, &got), -EOPNOTSUPP);
        ck_assert_int_eq(context_regex_sample("^(a)\\1$", 0, 0, 10, &got), -EOPNOTSUPP);
        ck_assert_int_eq(context_regex_sample("(a", 0, 0, 10, &got), -EINVAL);
        ck_assert_int_eq(context_regex_sample("a)", 0, 0, 10, &got), -EINVAL);
        ck_assert_int_eq(context_regex_sample("[z-a]", 0, 0, 10, &got), -EINVAL);
        ck_assert_int_eq(context_regex_sample("*a", 0, 0, 10, &got), -EINVAL);
        ck_assert_int_eq(context_regex_sample("^ab$", 0, 5, 10, &got), -EINVAL);
        ck_assert_int_eq(context_regex_sample("^a{20}$", 0, 0, 10, &got), -EINVAL);
        /* bounded work: zero-width repetitions, huge outputs, long patterns */
        ck_assert_int_eq(context_regex_sample("((((^){64}){64}){64}){64}", 0, 0, 10, &got), -E2BIG);
        ck_assert_int_eq(context_regex_sample("(a{1000}){1000}", 0, 0, 10, &got), -E2BIG);
        char long_pattern[1200];
        memset(long_pattern, 'a', sizeof(long_pattern) - 1);
        long_pattern[sizeof(long_pattern) - 1] = '\0';
        ck_assert_int_eq(context_regex_sample(long_pattern, 0, 0, 2000, &got), -EOPNOTSUPP);
        ck_assert_ptr_null(got);
}
END_TEST

/* statements laid out as black 25 lays them out (line length 100); the expected texts are
 * black's own output */
/* Names PostgreSQL keeps whole: at most 63 bytes, the same as database.py.tmpl's
 * fit_name() (the expected digests are Python's hashlib.sha256 of the whole name). */
START_TEST(test_db_names) {
        static const char *const cases[][2] = {
                { "pk_tasks", "pk_tasks" },
                /* 63 bytes: kept */
                { "ix_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                  "ix_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
                { "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_7ce10097" },
                { "ck_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_range",
                  "ck_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_d4967bbc" },
                { "ix_interplanetary_cargo_vessel_registry_entries_hull_identification_number",
                  "ix_interplanetary_cargo_vessel_registry_entries_hull_i_648a28b1" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = context_db_name("%s", cases[i][0]);
                ck_assert_ptr_nonnull(n);
                ck_assert_str_eq(n, cases[i][1]);
                ck_assert_uint_le(strlen(n), CONTEXT_DB_NAME_MAX);
        }
        /* a format, and two long names with the same first 54 bytes differ */
        _cleanup_free_ char *a = context_db_name("ck_%s_%s_range", "interplanetary_cargo_vessel_registry_entries",
                                                 "maximum_cargo_mass_in_kilograms");
        _cleanup_free_ char *b = context_db_name("ck_%s_%s_length", "interplanetary_cargo_vessel_registry_entries",
                                                 "maximum_cargo_mass_in_kilograms");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(strlen(a), CONTEXT_DB_NAME_MAX);
        ck_assert_int_eq(strncmp(a, b, 54), 0);
        ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_black_layout) {
        static const char *const cases[][3] = {
                { "x: Mapped[int] = ", "mapped_column(sa.Integer(), nullable=False)",
                  "x: Mapped[int] = mapped_column(sa.Integer(), nullable=False)" },
                { "status: Mapped[str | None] = ",
                  "mapped_column(sa.Enum(\"todo\", \"in_progress\", \"done\", name=\"status_enum\"), nullable=True)",
                  "status: Mapped[str | None] = mapped_column(\n"
                  "        sa.Enum(\"todo\", \"in_progress\", \"done\", name=\"status_enum\"), nullable=True\n"
                  "    )" },
                { "long_field_name_here: Mapped[str] = ",
                  "mapped_column(sa.Enum(\"a_very_long_value_one\", \"a_very_long_value_two\", "
                  "\"a_very_long_value_three\", name=\"x\"), nullable=False)",
                  "long_field_name_here: Mapped[str] = mapped_column(\n"
                  "        sa.Enum(\n"
                  "            \"a_very_long_value_one\", \"a_very_long_value_two\", \"a_very_long_value_three\", name=\"x\"\n"
                  "        ),\n"
                  "        nullable=False,\n"
                  "    )" },
                /* one argument gets no trailing comma */
                { "one: Mapped[str] = ",
                  "mapped_column(sa.Enum(\"a_very_long_value_one\", \"a_very_long_value_two\", "
                  "\"a_very_long_value_three\", \"four\"))",
                  "one: Mapped[str] = mapped_column(\n"
                  "        sa.Enum(\"a_very_long_value_one\", \"a_very_long_value_two\", \"a_very_long_value_three\", \"four\")\n"
                  "    )" },
                /* commas and brackets inside strings are text */
                { "c = ", "f('a, (b', \"c)\")", "c = f('a, (b', \"c)\")" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *got = context_black_stmt(4, cases[i][0], cases[i][1]);
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, cases[i][2]);
                free(got);
        }
        /* an item of a list split one per line: its comma counts in its length */
        char *item = context_black_item(4, "a_parameter_name: Optional[SomeLongType] = ",
                                        "Query(None, description=\"Only rows whose status equals it.\")", ",");
        ck_assert_ptr_nonnull(item);
        ck_assert_str_eq(item, "a_parameter_name: Optional[SomeLongType] = Query(\n"
                               "        None, description=\"Only rows whose status equals it.\"\n"
                               "    ),");
        free(item);
        /* def lines: on one line, the parameters on one line, one parameter per line */
        static const char *const defs[][3] = {
                { "validate_task", "db: Session, current: Optional[Task] = None",
                  "def validate_task(db: Session, current: Optional[Task] = None) -> None:" },
                { "validate_appointment_record",
                  "db: Session, data: Dict[str, Any], current: Optional[AppointmentRecord] = None",
                  "def validate_appointment_record(\n"
                  "    db: Session, data: Dict[str, Any], current: Optional[AppointmentRecord] = None\n"
                  ") -> None:" },
                { "f",
                  "db: Session, data: Dict[str, Any], current: Optional[AVeryLongClassNameIndeedThatGoesOnAndOnAndOn] = None",
                  "def f(\n"
                  "    db: Session,\n"
                  "    data: Dict[str, Any],\n"
                  "    current: Optional[AVeryLongClassNameIndeedThatGoesOnAndOnAndOn] = None,\n"
                  ") -> None:" },
        };
        for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
                char *got = context_black_def(0, defs[i][0], defs[i][1], "None");
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, defs[i][2]);
                free(got);
        }
}
END_TEST

/* collection literals, a lone parameter and the rendered text's over-long defs, as black 25
 * lays them out (the expected texts are black's own output) */
START_TEST(test_black_layout_literals) {
        /* a list literal that does not fit is split one item per line, even when its items
         * would fit on one line (a call's arguments would not be) */
        char *got = context_black_item(4, "for value in ",
                                       "[\"front desk\", \"web site\", \"3rd party\", \"it's a walk-in\", "
                                       "'say \"hi\"', \"back\\\\slash and more\"]",
                                       ":");
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, "for value in [\n"
                              "        \"front desk\",\n"
                              "        \"web site\",\n"
                              "        \"3rd party\",\n"
                              "        \"it's a walk-in\",\n"
                              "        'say \"hi\"',\n"
                              "        \"back\\\\slash and more\",\n"
                              "    ]:");
        free(got);
        got = context_black_stmt(0, "_PURCHASE_ORDER_FULFILMENT_STATUS_TRANSITIONS_INITIAL: Tuple[str, ...] = ",
                                 "(\"awaiting_supplier_confirmation\", \"confirmed_by_supplier_awaiting_dispatch\", "
                                 "\"cancelled_before_dispatch\")");
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, "_PURCHASE_ORDER_FULFILMENT_STATUS_TRANSITIONS_INITIAL: Tuple[str, ...] = (\n"
                              "    \"awaiting_supplier_confirmation\",\n"
                              "    \"confirmed_by_supplier_awaiting_dispatch\",\n"
                              "    \"cancelled_before_dispatch\",\n"
                              ")");
        free(got);
        got = context_black_item(4, "\"confirmed_by_supplier_awaiting_dispatch\": ",
                                 "(\"dispatched_in_transit_to_warehouse\", \"cancelled_before_dispatch\")", ",");
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, "\"confirmed_by_supplier_awaiting_dispatch\": (\n"
                              "        \"dispatched_in_transit_to_warehouse\",\n"
                              "        \"cancelled_before_dispatch\",\n"
                              "    ),");
        free(got);
        /* a split def with one parameter gets black's trailing comma */
        got = context_black_def(0, "test_create_product_category_classification_refuses_a_body_that_is_not_json_at_all",
                                "client: TestClient", "None");
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, "def test_create_product_category_classification_refuses_a_body_that_is_not_json_at_all(\n"
                              "    client: TestClient,\n"
                              ") -> None:");
        free(got);

        /* a rendered text: the over-long defs split (at their indentation), the rest as it
         * was, a def with a string in its parameters too (it is not split) */
        static const char text[] =
                "def test_create_product_category_classification_refuses_a_body_that_is_not_json_at_all(client: TestClient) -> None:\n"
                "    pass\n"
                "class C:\n"
                "    def test_create_product_category_classification_refuses_an_invalid_value_in_the_body(self, client: TestClient, db_session: Session) -> None:\n"
                "        pass\n"
                "def short(client: TestClient) -> None:\n"
                "def test_update_measure_refuses_a_taken_alternative_owner_identifier(client: TestClient, x: str = \"a, b\") -> None:\n"
                "x = 1";
        static const char want[] =
                "def test_create_product_category_classification_refuses_a_body_that_is_not_json_at_all(\n"
                "    client: TestClient,\n"
                ") -> None:\n"
                "    pass\n"
                "class C:\n"
                "    def test_create_product_category_classification_refuses_an_invalid_value_in_the_body(\n"
                "        self, client: TestClient, db_session: Session\n"
                "    ) -> None:\n"
                "        pass\n"
                "def short(client: TestClient) -> None:\n"
                "def test_update_measure_refuses_a_taken_alternative_owner_identifier(client: TestClient, x: str = \"a, b\") -> None:\n"
                "x = 1";
        struct strbuf out;
        strbuf_init(&out, 0);
        ck_assert_int_eq(context_black_defs(text, strlen(text), &out), 0);
        ck_assert_str_eq(strbuf_str(&out), want);
        strbuf_free(&out);
}
END_TEST

START_TEST(test_py_ident) {
        static const char *const cases[][2] = {
                { "title", "title" }, { "class", "class_" },   { "from", "from_" },
                { "type", "type" },   { "order", "order" },    { "metadata", "metadata_" },
                { "json", "json_" },  { "schema", "schema_" }, { "sa", "sa_" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *s = context_py_ident(cases[i][0]);
                ck_assert_str_eq(s, cases[i][1]);
                free(s);
        }
}
END_TEST

/* a renamed member never takes the name of another member of the entity */
static const char attr_spec[] =
        "format: 1\n"
        "name: attrs\n"
        "entities:\n"
        "  - name: Item\n"
        "    fields:\n"
        "      - {name: json, type: json}\n"
        "      - {name: json_, type: string, max_length: 9}\n"
        "      - {name: json__, type: integer}\n"
        "      - {name: str, type: string}\n"
        "      - {name: self, type: boolean}\n"
        "      - {name: db, type: integer}\n"
        "      - {name: db_filter, type: integer}\n"
        "      - {name: rows, type: string}\n"
        "      - {name: mail, type: email, required: true}\n"
        "endpoints:\n"
        "  - {entity: Item, operation: list, filters: [db, db_filter, rows]}\n"
        "validations:\n"
        "  - {entity: Item, rule: regex, field: mail, pattern: '^[a-z]+@', message: m}\n";

START_TEST(test_member_attrs) {
        struct job j;
        job_load(&j, NULL, attr_spec, NULL);
        struct backend_options o = builtin_options();
        int r;
        char *err;
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d), 0);
        char *text = gen(&j, &o, find_atom(j.dag, "model_item"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "    json___: Mapped[Any | None] = mapped_column(\"json\""));
        ck_assert_ptr_nonnull(strstr(text, "    json_: Mapped[str | None] = mapped_column(\n"
                                           "        sa.String(9), sa.CheckConstraint('length(\"json_\") <= 9', name=\"json__length\"), nullable=True\n"
                                           "    )\n"));
        ck_assert_ptr_nonnull(strstr(text, "    json__: Mapped[int | None] = mapped_column(sa.Integer"));
        ck_assert_ptr_nonnull(strstr(text, "    str_: Mapped[str | None] = mapped_column(\"str\""));
        ck_assert_ptr_nonnull(strstr(text, "    self_: Mapped[bool | None] = mapped_column(\"self\""));
        free(text);
        /* list parameters: none is a name the function uses, none another filter's */
        text = gen(&j, &o, find_atom(j.dag, "route_item_list"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "    db_filter: Annotated[\n        Optional[int], Query(description="));
        ck_assert_ptr_nonnull(strstr(text, "    db_filter_: Annotated[\n        Optional[int], Query(alias=\"db\""));
        ck_assert_ptr_nonnull(strstr(text, "    rows_filter: Annotated[\n        Optional[str], Query(alias=\"rows\""));
        free(text);
        /* an email that also meets the rule's pattern */
        text = gen(&j, &o, find_atom(j.dag, "test_conftest"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "\"a@example.com\""));
        free(text);
        job_clear(&j);
}
END_TEST

START_TEST(test_context_keys) {
        struct job j;
        job_load(&j, "spool-example/taskmanager/spec.yaml", NULL, "spool-example/taskmanager/dag.json");
        struct node *ctx = NULL;
        const struct atom *a = find_atom(j.dag, "route_task_get");
        ck_assert_int_eq(context_for_atom(j.spec, j.dag, a, &ctx), 0);
        const struct node *atom = node_get(ctx, "atom");
        ck_assert_str_eq(node_get(atom, "id")->value, "route_task_get");
        ck_assert_str_eq(node_get(atom, "operation")->value, "get");
        ck_assert_str_eq(node_get(atom, "fragment_index")->value, "2");
        ck_assert_str_eq(node_get(atom, "fragment_count")->value, "5");
        ck_assert_str_eq(node_get(atom, "first_fragment")->value, "false");
        ck_assert_str_eq(node_get(node_get(ctx, "entity"), "name")->value, "Task");
        const struct node *eps = node_get(ctx, "route_endpoints");
        ck_assert_uint_eq(eps->n, 1);
        ck_assert_str_eq(node_get(eps->items[0], "path")->value, "/tasks/{id}");
        ck_assert_str_eq(node_get(eps->items[0], "url_expr")->value, "f\"{API}/tasks/{item_id}\"");
        const struct node *proj = node_get(ctx, "project");
        ck_assert_str_eq(node_get(proj, "api_prefix")->value, "/api");
        ck_assert_str_eq(node_get(proj, "title_quoted")->value, "\"Task Manager API\"");
        const struct node *order = node_get(ctx, "tables_in_order");
        ck_assert_str_eq(node_get(order->items[0], "name")->value, "User");
        ck_assert_str_eq(node_get(order->items[1], "name")->value, "Task");
        const struct node *fields = node_get(node_get(ctx, "entity"), "fields");
        const struct node *status = fields->items[2];
        ck_assert_str_eq(node_get(status, "name")->value, "status");
        ck_assert_str_eq(node_get(status, "create_type")->value, "TaskStatus"); /* NOT NULL: a default */
        ck_assert_str_eq(node_get(status, "create_field")->value, "Field(\"todo\")");
        ck_assert_str_eq(node_get(status, "sa_type")->value,
                         "sa.Enum(\"todo\", \"in_progress\", \"done\", name=\"status_enum\", native_enum=False, create_constraint=True)");
        const struct node *title = fields->items[0];
        ck_assert_str_eq(node_get(title, "create_field")->value, "Field(..., min_length=3, max_length=200)");
        ck_assert_str_eq(node_get(title, "sample")->value, "\"title 1\"");
        ck_assert_str_eq(node_get(title, "invalid")->value, "[\"not\", \"a\", \"string\"]");
        node_free(ctx);

        /* atoms without an entity get a null one */
        ck_assert_int_eq(context_for_atom(j.spec, j.dag, find_atom(j.dag, "config"), &ctx), 0);
        ck_assert_int_eq(node_get(ctx, "entity")->kind, NODE_NULL);
        ck_assert_uint_eq(node_get(ctx, "route_endpoints")->n, 0);
        node_free(ctx);
        job_clear(&j);
}
END_TEST


#define LAYOUT_SPEC                                                                        \
        "format: 1\nname: shop\nentities:\n"                                               \
        "  - name: OrderItem\n    fields:\n"                                               \
        "      - {name: state, type: enum, values: [checked-in, no show], default: no show}\n" \
        "  - name: Tag\n    fields:\n      - {name: label, type: string}\n"               \
        "endpoints:\n"                                                                     \
        "  - {entity: OrderItem, operation: list, filters: [state]}\n"                    \
        "  - {entity: OrderItem, operation: create}\n"                                     \
        "  - {entity: OrderItem, operation: get}\n"                                        \
        "  - {entity: Tag, operation: list}\n"                                             \
        "  - {entity: Tag, operation: delete}\n"                                           \
        "validations:\n"                                                                   \
        "  - {entity: OrderItem, rule: transitions, field: state, message: m,\n"          \
        "     allowed: {checked-in: [no show], no show: []}}\n"                            \
        "  - {entity: Tag, rule: unique, field: label, message: taken}\n"

#define A(id, kind, target, extra) \
        "{\"id\": \"" id "\", \"kind\": \"" kind "\", \"target\": \"" target "\"" extra "},"

/* a flat package app/: shared model, schema and rule modules, one route atom per entity
 * (OrderItem) and per endpoint (Tag) */
#define LAYOUT_ATOMS                                                                       \
        A("pkg", "package", "app/__init__.py", "")                                         \
        A("config", "config", "app/settings.py", "")                                       \
        A("db", "database", "app/db.py", "")                                               \
        A("errors", "app", "app/errors.py", "")                                            \
        A("m_oi", "model", "app/models.py", ", \"entity\": \"OrderItem\"")                \
        A("m_tag", "model", "app/models.py", ", \"entity\": \"Tag\"")                     \
        A("s_oi", "schema", "app/schemas.py", ", \"entity\": \"OrderItem\"")              \
        A("s_tag", "schema", "app/schemas.py", ", \"entity\": \"Tag\"")                   \
        A("v_oi", "validation", "app/rules.py", ", \"entity\": \"OrderItem\"")            \
        A("v_tag", "validation", "app/rules.py", ", \"entity\": \"Tag\"")                 \
        A("svc_pkg", "package", "app/services/__init__.py", "")                            \
        A("svc_oi", "service", "app/services/orderitem.py", ", \"entity\": \"OrderItem\"") \
        A("svc_tag", "service", "app/services/tag.py", ", \"entity\": \"Tag\"")           \
        A("r_oi", "route", "app/orderitem_api.py", ", \"entity\": \"OrderItem\"")         \
        A("r_tag_list", "route", "app/tag_api.py", ", \"entity\": \"Tag\", \"operation\": \"list\"") \
        A("r_tag_delete", "route", "app/tag_api.py", ", \"entity\": \"Tag\", \"operation\": \"delete\"")

#define DAG_OF(atoms) "{\"format\": 1, \"name\": \"shop\", \"atoms\": [" atoms \
        "{\"id\": \"main\", \"kind\": \"app\", \"target\": \"app/main.py\"}]}"

START_TEST(test_layout_follows_targets) {
        struct job j;
        struct backend_options o = builtin_options();
        int r;
        char *err, *text;

        job_load_text(&j, LAYOUT_SPEC, DAG_OF(LAYOUT_ATOMS));
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), 0);

        /* the per-entity route atom writes every endpoint of OrderItem and opens its module */
        text = gen(&j, &o, find_atom(j.dag, "r_oi"), &r, &err);
        ck_assert_msg(r == 0, "%s", err ? err : "?");
        ck_assert_ptr_nonnull(strstr(text, "def list_order_items("));
        ck_assert_ptr_nonnull(strstr(text, "def create_order_item("));
        ck_assert_ptr_nonnull(strstr(text, "def get_order_item("));
        ck_assert_ptr_nonnull(strstr(text, "router = APIRouter("));
        ck_assert_ptr_null(strstr(strstr(text, "router = APIRouter(") + 1, "router = APIRouter("));
        ck_assert_ptr_nonnull(strstr(text, "from app.services import orderitem as order_item_service\n"));
        ck_assert_ptr_nonnull(strstr(text, "from app.schemas import "));
        ck_assert_ptr_nonnull(strstr(text, "from app.db import DbSession\n"));
        free(text);

        /* the second per-endpoint fragment of a module does not open it again */
        text = gen(&j, &o, find_atom(j.dag, "r_tag_delete"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_null(strstr(text, "router = APIRouter("));
        free(text);

        /* imports follow the targets, whatever the package */
        text = gen(&j, &o, find_atom(j.dag, "main"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "from app import orderitem_api as orderitem_api_routes\n"));
        ck_assert_ptr_nonnull(strstr(text, "app.include_router(orderitem_api_routes.router"));
        ck_assert_ptr_nonnull(strstr(text, "app.include_router(tag_api_routes.router"));
        ck_assert_ptr_nonnull(strstr(text, "from app.models import OrderItem, Tag\n"));
        ck_assert_ptr_nonnull(strstr(text, "from app.settings import settings\n"));
        free(text);

        /* rule functions of entities sharing a module have distinct names */
        text = gen(&j, &o, find_atom(j.dag, "v_tag"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "def check_tag_label_unique("));
        free(text);

        /* enum values as written, member names derived */
        text = gen(&j, &o, find_atom(j.dag, "s_oi"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "OrderItemState = Literal[\"checked-in\", \"no show\"]"));
        ck_assert_ptr_nonnull(strstr(text, "    CHECKED_IN = \"checked-in\"\n    NO_SHOW = \"no show\"\n"));
        free(text);
        job_clear(&j);
}
END_TEST

START_TEST(test_layout_refused) {
        struct job j;
        struct backend_options o = builtin_options();

        /* no package atom for app/services, no validation module for Tag, an endpoint
         * claimed twice, a service module shared by two entities */
        job_load_text(&j, LAYOUT_SPEC, DAG_OF(
                A("pkg", "package", "app/__init__.py", "")
                A("config", "config", "app/settings.py", "")
                A("db", "database", "app/db.py", "")
                A("errors", "app", "app/errors.py", "")
                A("m_oi", "model", "app/models.py", ", \"entity\": \"OrderItem\"")
                A("m_tag", "model", "app/models.py", ", \"entity\": \"Tag\"")
                A("s_oi", "schema", "app/schemas.py", ", \"entity\": \"OrderItem\"")
                A("s_tag", "schema", "app/schemas.py", ", \"entity\": \"Tag\"")
                A("v_oi", "validation", "app/rules.py", ", \"entity\": \"OrderItem\"")
                A("svc_oi", "service", "app/services/all.py", ", \"entity\": \"OrderItem\"")
                A("svc_tag", "service", "app/services/all.py", ", \"entity\": \"Tag\"")
                A("r_oi", "route", "app/orderitem_api.py", ", \"entity\": \"OrderItem\"")
                A("r_oi_get", "route", "app/orderitem_api.py", ", \"entity\": \"OrderItem\", \"operation\": \"get\"")
                A("r_tag", "route", "app/tag-api.py", ", \"entity\": \"Tag\"")));
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "dag.json", "atoms[9]",
                           "atom 'svc_oi' writes a module in 'app/services', which is not a package: add a package atom with target 'app/services/__init__.py'"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[10]",
                           "atom 'svc_tag' needs the validation module of 'Tag': add a validation atom with entity 'Tag'"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[10]",
                           "service atoms 'svc_oi' and 'svc_tag' share the target 'app/services/all.py': the bank writes one service module per entity"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[12]",
                           "route atom 'r_oi_get' claims the endpoint get /order_items/{id} of 'OrderItem' that atom 'r_oi' already writes"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[13]",
                           "atom 'r_tag' writes 'app/tag-api.py', which is not an importable module name (each part a Python identifier, not a keyword)"));
        job_clear(&j);
}
END_TEST

/* config.auth: the routes of protected endpoints need the authentication module (an app
 * atom *auth*.py), which is refused without an auth; with it, the protected handlers
 * depend on require_auth and the open ones do not */
#define AUTH_SPEC "config: {auth: api_key}\n" LAYOUT_SPEC
#define AUTH_ATOM A("auth", "app", "app/auth.py", "")
#define AUTH_TEST A("t_auth", "test", "tests/test_auth.py", "")

START_TEST(test_layout_auth) {
        struct job j;
        struct backend_options o = builtin_options();
        int r;
        char *err, *text;

        /* no authentication module: each route atom with a write endpoint names it */
        job_load_text(&j, AUTH_SPEC, DAG_OF(LAYOUT_ATOMS));
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "dag.json", "atoms[13]",
                           "atom 'r_oi' needs an app atom writing the authentication module (a target named *auth*.py), which the DAG does not have"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[15]",
                           "atom 'r_tag_delete' needs an app atom writing the authentication module (a target named *auth*.py), which the DAG does not have"));
        ck_assert(!has_diag(&j.d, "dag.json", "atoms[14]",
                            "atom 'r_tag_list' needs an app atom writing the authentication module (a target named *auth*.py), which the DAG does not have"));
        job_clear(&j);

        /* an authentication module or tests without config.auth */
        job_load_text(&j, LAYOUT_SPEC, DAG_OF(LAYOUT_ATOMS AUTH_ATOM AUTH_TEST));
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d), -EINVAL);
        ck_assert(has_diag(&j.d, "dag.json", "atoms[16]",
                           "atom 'auth' writes an authentication module, but the spec's config.auth is none: set it to api_key or jwt, or drop the atom"));
        ck_assert(has_diag(&j.d, "dag.json", "atoms[17]",
                           "atom 't_auth' writes authentication tests, but the spec's config.auth is none: set it to api_key or jwt, or drop the atom"));
        job_clear(&j);

        job_load_text(&j, AUTH_SPEC, DAG_OF(LAYOUT_ATOMS AUTH_ATOM));
        r = backend_pattern.check(&o, j.spec, j.dag, "dag.json", &j.d);
        if (r < 0)
                dump_diags(&j.d);
        ck_assert_int_eq(r, 0);
        text = gen(&j, &o, find_atom(j.dag, "r_oi"), &r, &err);
        ck_assert_msg(r == 0, "%s", err ? err : "?");
        ck_assert_ptr_nonnull(strstr(text, "from app.auth import AUTH_OPENAPI, require_auth\n"));
        /* create is protected, list and get are not */
        const char *create = strstr(text, "def create_order_item("), *list = strstr(text, "def list_order_items(");
        const char *dep = strstr(text, "    dependencies=[Depends(require_auth)],\n    openapi_extra=AUTH_OPENAPI,\n");
        ck_assert(create && list && dep && list < dep && dep < create);
        ck_assert_ptr_null(strstr(dep + strlen("    dependencies="), "dependencies="));
        free(text);
        text = gen(&j, &o, find_atom(j.dag, "r_tag_list"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_null(strstr(text, "require_auth"));
        free(text);
        text = gen(&j, &o, find_atom(j.dag, "auth"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "from app.settings import settings\n"));
        ck_assert_ptr_nonnull(strstr(text, "hmac.compare_digest("));
        /* read-only keys: 403 on a write */
        ck_assert_ptr_nonnull(strstr(text, "    reads = _matches(given, settings.api_read_keys)\n"));
        ck_assert_ptr_nonnull(strstr(text, "    if not writes and request.method not in READ_METHODS:\n"));
        free(text);
        /* the protected create lists 403 beside 401; the open list does not */
        text = gen(&j, &o, find_atom(j.dag, "r_oi"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "401, 403, "));
        ck_assert_ptr_nonnull(strstr(text, "    responses=error_responses(422, 500),\n)\ndef list_order_items("));
        free(text);
        /* the application is still main, not the authentication module */
        text = gen(&j, &o, find_atom(j.dag, "main"), &r, &err);
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(strstr(text, "def create_app("));
        free(text);
        job_clear(&j);
}
END_TEST

START_TEST(test_many_entities) {
        /* no fixed limits: 30 entities, each pointing at the previous one */
        struct strbuf sb;
        strbuf_init(&sb, 0);
        ck_assert_int_eq(strbuf_adds(&sb, "format: 1\nname: big\nentities:\n"), 0);
        for (int i = 0; i < 30; i++) {
                ck_assert_int_eq(strbuf_addf(&sb, "  - name: Thing%d\n    fields:\n      - {name: label, type: string, unique: true}\n", i), 0);
                if (i > 0)
                        ck_assert_int_eq(strbuf_addf(&sb, "      - {name: thing%d_id, type: foreign_key, target: Thing%d, required: true}\n", i - 1, i - 1), 0);
        }
        ck_assert_int_eq(strbuf_adds(&sb, "endpoints:\n"), 0);
        for (int i = 0; i < 30; i++)
                ck_assert_int_eq(strbuf_addf(&sb, "  - {entity: Thing%d, operation: list}\n", i), 0);
        struct job j;
        job_load(&j, NULL, strbuf_str(&sb), NULL);
        struct backend_options o = builtin_options();
        ck_assert_int_eq(backend_pattern.check(&o, j.spec, j.dag, "(planned)", &j.d), 0);
        static const char *const ids[] = { "test_conftest", "app", "migration_initial", "alembic_env" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                int r;
                char *err;
                char *text = gen(&j, &o, find_atom(j.dag, ids[i]), &r, &err);
                ck_assert_msg(r == 0, "%s: %s", ids[i], err ? err : "?");
                ck_assert_ptr_nonnull(strstr(text, "thing29"));
                free(text);
        }
        strbuf_free(&sb);
        job_clear(&j);
}
END_TEST

/* Every atom of a job through prepare() (the job's context built once, in the parent)
 * writes the same text as without it. */
static void expect_prepared_same(const char *spec_file, const char *dag_file) {
        struct job j;
        job_load(&j, spec_file, NULL, dag_file);
        struct backend_options o = builtin_options();
        void *prepared = NULL;
        ck_assert_int_eq(backend_pattern.prepare(&o, j.spec, j.dag, &prepared), 0);
        ck_assert_ptr_nonnull(prepared);
        for (size_t i = 0; i < j.dag->n_atoms; i++) {
                const struct atom *a = &j.dag->atoms[i];
                struct gen_request req = { .spec = j.spec, .dag = j.dag, .atom = a, .options = &o,
                                           .prepared = prepared };
                struct gen_usage u = { 0 };
                struct strbuf out;
                char *err = NULL;
                int r;
                strbuf_init(&out, 16 << 20);
                ck_assert_msg(backend_pattern.generate(&req, &out, &u, &err) == 0, "%s: %s", a->id, err ? err : "?");
                char *plain = gen(&j, &o, a, &r, &err);
                ck_assert_msg(r == 0, "%s: %s", a->id, err ? err : "?");
                ck_assert_msg(streq(plain, strbuf_str(&out)), "atom %s differs when prepared", a->id);
                free(plain);
                strbuf_free(&out);
        }
        backend_pattern.unprepare(prepared);
        job_clear(&j);
}

START_TEST(test_prepared_same_text) {
        expect_prepared_same("spool-example/taskmanager/spec.yaml", "spool-example/taskmanager/dag.json");
        expect_prepared_same("tests/data/specs/pattern-library.yaml", NULL);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("pattern");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_backend_table);
        tcase_add_test(tc, test_reference_project);
        tcase_add_test(tc, test_library_planned);
        tcase_add_test(tc, test_custom_needs_a_language_model);
        tcase_add_test(tc, test_atoms_without_pattern);
        tcase_add_test(tc, test_patterns_dir_overrides);
        tcase_add_test(tc, test_python_escaping);
        tcase_add_test(tc, test_context_check);
        tcase_add_test(tc, test_regex_samples);
        tcase_add_test(tc, test_py_ident);
        tcase_add_test(tc, test_black_layout);
        tcase_add_test(tc, test_db_names);
        tcase_add_test(tc, test_black_layout_literals);
        tcase_add_test(tc, test_member_attrs);
        tcase_add_test(tc, test_context_keys);
        tcase_add_test(tc, test_many_entities);
        tcase_add_test(tc, test_prepared_same_text);
        tcase_add_test(tc, test_layout_follows_targets);
        tcase_add_test(tc, test_layout_refused);
        tcase_add_test(tc, test_layout_auth);
        suite_add_tcase(s, tc);
        return s;
}
