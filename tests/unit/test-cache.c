/* test-cache.c - the atom cache: its key (backend_cache_key()) changes with every input
 * that decides an atom's output and with nothing else; entries round-trip; eviction
 * removes the least recently used first and stops under the limit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/model/model.h"
#include "check-main.h"
#include "daemon/cache.h"
#include "format/dag.h"
#include "format/doc.h"
#include "format/spec.h"
#include "shared/fs.h"
#include "shared/macro.h"

/* Three entities: User and Task related, Tag related to neither. */
static const char SPEC[] =
        "format: 1\n"
        "name: shop\n"
        "entities:\n"
        "  - name: User\n"
        "    fields:\n"
        "      - {name: email, type: email, required: true}\n"
        "    relationships:\n"
        "      - {name: tasks, kind: one_to_many, target: Task, back_populates: owner}\n"
        "  - name: Task\n"
        "    fields:\n"
        "      - {name: title, type: string, required: true, max_length: 200}\n"
        "      - {name: owner_id, type: foreign_key, target: User, required: true}\n"
        "    relationships:\n"
        "      - {name: owner, kind: many_to_one, target: User, back_populates: tasks}\n"
        "  - name: Tag\n"
        "    fields:\n"
        "      - {name: label, type: string, max_length: 40}\n"
        "endpoints:\n"
        "  - {entity: User, operation: list, method: GET, path: /users}\n"
        "  - {entity: Tag, operation: list, method: GET, path: /tags}\n";

struct fixture {
        char *tmp;
        struct node *doc;
        struct spec *spec;
        struct dag *dag;
        struct model_settings anthropic;
        struct backend_options o;
};

/* Loads spec (SPEC with one substitution when from is not NULL), plans it, writes every
 * atom's fragment as "text of ID" into tmp/frags/. */
static void fixture_load(struct fixture *f, const char *from, const char *to) {
        char text[sizeof(SPEC) + 256];
        struct diags d = DIAGS_INIT;
        snprintf(text, sizeof(text), "%s", SPEC);
        if (from) {
                char *p = strstr(text, from);
                ck_assert_ptr_nonnull(p);
                char rest[sizeof(SPEC) + 256];
                snprintf(rest, sizeof(rest), "%s", p + strlen(from));
                snprintf(p, sizeof(text) - (size_t) (p - text), "%s%s", to, rest);
        }
        node_free(f->doc);
        spec_free(f->spec);
        dag_free(f->dag);
        ck_assert_int_eq(doc_parse_yaml(text, strlen(text), "spec.yaml", &f->doc, &d), 0);
        ck_assert_int_eq(spec_from_node(f->doc, "spec.yaml", &f->spec, &d), 0);
        ck_assert_int_eq(plan_from_spec(f->spec, &f->dag), 0);
        ck_assert_int_eq(dag_check(f->dag, f->spec, "(planned)", 1000, &d), 0);
        diags_clear(&d);
}

static void write_frag(struct fixture *f, const char *id, const char *text) {
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/frags/%s.frag", f->tmp, id), 0);
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644), 0);
        free(path);
}

static void fixture_init(struct fixture *f) {
        memset(f, 0, sizeof(*f));
        f->tmp = test_tmpdir();
        fixture_load(f, NULL, NULL);
        char *frags = path_join(f->tmp, "frags");
        ck_assert_int_eq(mkdir_p(frags, 0755), 0);
        free(frags);
        for (size_t i = 0; i < f->dag->n_atoms; i++) {
                char t[256];
                snprintf(t, sizeof(t), "text of %s\n", f->dag->atoms[i].id);
                write_frag(f, f->dag->atoms[i].id, t);
        }
        model_settings_init(&f->anthropic, "anthropic");
        f->anthropic.model = strdup("claude-test");
        f->o = (struct backend_options) { .datadir = test_srcdir(), .anthropic = &f->anthropic,
                                          .hybrid_model = "anthropic", .repair = true, .repair_attempts = 1 };
}

static void fixture_clear(struct fixture *f) {
        (void) rm_rf(f->tmp);
        free(f->tmp);
        node_free(f->doc);
        spec_free(f->spec);
        dag_free(f->dag);
        model_settings_clear(&f->anthropic);
}

/* The key of atom id through b, as hex. */
static void key(struct fixture *f, const struct backend *b, const char *id, char hex[65]) {
        const struct atom *a = dag_find_atom(f->dag, id);
        ck_assert_msg(a != NULL, "no atom %s", id);
        const struct gen_request req = { .spec = f->spec, .dag = f->dag, .atom = a, .options = &f->o,
                                         .work_dir = f->tmp, .spec_doc = f->doc };
        uint8_t k[32];
        ck_assert_int_eq(backend_cache_key(b, &req, k), 0);
        sha256_hex(k, hex);
}

/* The id of the first atom of entity and kind in the plan (a static copy: plans are
 * reloaded). */
static const char *atom_of(const struct fixture *f, const char *entity, enum atom_kind kind) {
        static char ids[8][128];
        static unsigned next;
        for (size_t i = 0; i < f->dag->n_atoms; i++)
                if (streq_ptr(f->dag->atoms[i].entity, entity) && f->dag->atoms[i].kind == kind) {
                        char *id = ids[next++ % ELEMENTSOF(ids)];
                        snprintf(id, sizeof(ids[0]), "%s", f->dag->atoms[i].id);
                        return id;
                }
        ck_abort_msg("no %s atom of %s", atom_kind_name(kind), entity ? entity : "(none)");
        return NULL;
}

START_TEST(test_key_inputs) {
        const struct backend *backends[] = { &backend_pattern, &backend_anthropic, &backend_hybrid };
        for (size_t bi = 0; bi < ELEMENTSOF(backends); bi++) {
                const struct backend *b = backends[bi];
                struct fixture f;
                char base[65], again[65], k[65];
                fixture_init(&f);
                const char *user_model = atom_of(&f, "User", AK_MODEL), *tag_model = atom_of(&f, "Tag", AK_MODEL);
                const char *config = atom_of(&f, NULL, AK_CONFIG);
                key(&f, b, user_model, base);
                key(&f, b, user_model, again);
                ck_assert_str_eq(base, again);
                key(&f, b, tag_model, k);
                ck_assert_str_ne(base, k);

                /* the backend's name */
                key(&f, backends[(bi + 1) % ELEMENTSOF(backends)], user_model, k);
                ck_assert_str_ne(base, k);

                /* a field of its entity, and of a related entity */
                fixture_load(&f, "type: email, required: true", "type: email, required: false");
                key(&f, b, user_model, k);
                ck_assert_str_ne(base, k);
                fixture_load(&f, "max_length: 200", "max_length: 201");
                key(&f, b, user_model, k);
                ck_assert_str_ne(base, k);
                /* not an unrelated entity's field nor its endpoint: */
                fixture_load(&f, "max_length: 40", "max_length: 41");
                key(&f, b, user_model, k);
                ck_assert_str_eq(base, k);
                fixture_load(&f, "path: /tags", "path: /labels");
                key(&f, b, user_model, k);
                ck_assert_str_eq(base, k);
                /* ... which an atom of no entity sees (the whole spec) */
                fixture_load(&f, NULL, NULL);
                key(&f, b, config, again);
                fixture_load(&f, "max_length: 40", "max_length: 41");
                key(&f, b, config, k);
                ck_assert_str_ne(again, k);
                fixture_load(&f, NULL, NULL);

                /* a dependency's output changes the key, another atom's does not */
                const struct atom *a = dag_find_atom(f.dag, user_model);
                ck_assert_uint_gt(a->n_deps, 0);
                write_frag(&f, f.dag->atoms[a->dep_idx[0]].id, "changed\n");
                key(&f, b, user_model, k);
                ck_assert_str_ne(base, k);
                fixture_clear(&f);

                fixture_init(&f);
                user_model = atom_of(&f, "User", AK_MODEL);
                write_frag(&f, atom_of(&f, "Tag", AK_SCHEMA), "changed\n");
                key(&f, b, user_model, k);
                ck_assert_str_eq(base, k);

                /* the atom's description */
                struct atom *w = (struct atom *) dag_find_atom(f.dag, user_model);
                char *desc = w->description;
                w->description = (char *) "another description";
                key(&f, b, user_model, k);
                ck_assert_str_ne(base, k);
                w->description = desc;

                /* a template of the bank (pattern, hybrid) or of the prompts (model) */
                char *dir = path_join(f.tmp, "over");
                ck_assert_int_eq(mkdir_p(dir, 0755), 0);
                char *file = path_join(dir, b == &backend_anthropic ? "atom.tmpl" : "model.py.tmpl");
                ck_assert_int_eq(write_file_atomic(file, "# override\n", 11, 0644), 0);
                if (b == &backend_anthropic)
                        f.o.prompts_dir = dir;
                else
                        f.o.patterns_dir = dir;
                key(&f, b, user_model, k);
                ck_assert_str_ne(base, k);
                f.o.prompts_dir = f.o.patterns_dir = NULL;
                key(&f, b, user_model, k);
                ck_assert_str_eq(base, k);
                free(file);
                free(dir);

                /* the model and its settings (model backends; pattern atoms of hybrid do
                 * not use them) */
                if (b == &backend_anthropic) {
                        f.o.model = "claude-other";
                        key(&f, b, user_model, k);
                        ck_assert_str_ne(base, k);
                        f.o.model = NULL;
                        f.anthropic.max_tokens = 1000;
                        key(&f, b, user_model, k);
                        ck_assert_str_ne(base, k);
                        f.anthropic.max_tokens = 8192;
                        f.o.repair = false;
                        key(&f, b, user_model, k);
                        ck_assert_str_ne(base, k);
                        f.o.repair = true;
                }
                /* what decides nothing: budgets, timeouts, the key's value */
                f.o.budget.max_calls = 3;
                f.anthropic.timeout = 1;
                f.anthropic.key = strdup("sk-other");
                key(&f, b, user_model, k);
                ck_assert_str_eq(base, k);
                fixture_clear(&f);
        }
}
END_TEST

static void touch_at(const char *dir, const char *name, size_t bytes, time_t when) {
        char *path = path_join(dir, name);
        char *buf = calloc(1, bytes + 1);
        ck_assert_int_eq(write_file_atomic(path, buf, bytes, 0644), 0);
        struct timespec ts[2] = { { when, 0 }, { when, 0 } };
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
        free(buf);
        free(path);
}

START_TEST(test_evict_lru) {
        char *dir = test_tmpdir();
        char name[65];
        time_t now = time(NULL);
        for (int i = 0; i < 5; i++) {
                memset(name, 'a' + i, 64);
                name[64] = '\0';
                /* b is the oldest, then a, c, d, e */
                touch_at(dir, name, 100, now - 1000 + (i == 1 ? -500 : i * 10));
        }
        touch_at(dir, ".stale.1.2.tmp", 10, now - 7200);
        touch_at(dir, ".fresh.1.3.tmp", 10, now);
        struct cache_evict_stats st;
        ck_assert_int_eq(cache_evict(dir, 250, 1000, &st), 0);
        ck_assert_uint_eq(st.removed, 3);
        ck_assert_uint_eq(st.entries, 2);
        ck_assert_uint_eq(st.bytes, 200);
        char *p;
        for (int i = 0; i < 5; i++) {
                memset(name, 'a' + i, 64);
                p = path_join(dir, name);
                ck_assert_msg(is_regular(p) == (i >= 3), "entry %c", 'a' + i);
                free(p);
        }
        p = path_join(dir, ".stale.1.2.tmp");
        ck_assert(!is_regular(p));
        free(p);
        p = path_join(dir, ".fresh.1.3.tmp");
        ck_assert(is_regular(p));
        free(p);
        /* under the limit: nothing removed; a missing cache is empty */
        ck_assert_int_eq(cache_evict(dir, 250, 1000, &st), 0);
        ck_assert_uint_eq(st.removed, 0);
        p = path_join(dir, "none");
        ck_assert_int_eq(cache_evict(p, 0, 1000, &st), 0);
        free(p);
        (void) rm_rf(dir);
        free(dir);
}
END_TEST

START_TEST(test_entry_roundtrip) {
        char *dir = test_tmpdir(), *cache = path_join(dir, "cache");
        char hex[65];
        memset(hex, 'f', 64);
        hex[64] = '\0';
        struct node *res = node_new_map(), *got = NULL;
        ck_assert_int_eq(node_map_set_int(res, "loc", 12), 0);
        ck_assert_int_eq(node_map_set_string(res, "backend", "anthropic"), 0);
        static const char text[] = "x = 1\n\n\tweird   \n\"quoted\": ---\n";
        char *t = NULL;
        size_t len = 0;
        ck_assert_int_eq(cache_lookup(cache, hex, &got, &t, &len), 0);
        ck_assert_int_eq(cache_store(cache, hex, res, text, sizeof(text) - 1), 0);
        ck_assert_int_eq(cache_lookup(cache, hex, &got, &t, &len), 1);
        ck_assert_uint_eq(len, sizeof(text) - 1);
        ck_assert_mem_eq(t, text, len);
        ck_assert_str_eq(node_get(got, "backend")->value, "anthropic");
        node_free(got);
        free(t);
        /* a cut entry is a miss and is removed */
        char *p = path_join(cache, hex);
        ck_assert_int_eq(truncate(p, 20), 0);
        ck_assert_int_eq(cache_lookup(cache, hex, &got, &t, &len), 0);
        ck_assert(!is_regular(p));
        ck_assert_int_eq(cache_lookup(cache, "../x", &got, &t, &len), -EINVAL);
        free(p);
        node_free(res);
        (void) rm_rf(dir);
        free(cache);
        free(dir);
}
END_TEST

Suite *make_suite(void) {
        Suite *s = suite_create("cache");
        TCase *tc = tcase_create("cache");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_key_inputs);
        tcase_add_test(tc, test_evict_lru);
        tcase_add_test(tc, test_entry_roundtrip);
        suite_add_tcase(s, tc);
        return s;
}
