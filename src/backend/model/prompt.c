/* prompt.c - prompts from templates and the job's context; see prompt.h. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/template.h"
#include "format/doc.h"
#include "prompt.h"
#include "shared/fs.h"
#include "shared/macro.h"
#include "shared/strbuf.h"

#define MAX_PROMPT_TEMPLATE (256u << 10)
#define MAX_PROMPT (4u << 20)
#define MAX_FRAG (16u << 20)

static int load(void *userdata, const char *name, char **ret, size_t *ret_len) {
        const struct backend_options *o = userdata;
        const char *dirs[] = { o->prompts_dir, o->datadir };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = NULL;
                if (!dirs[i])
                        continue;
                if (asprintf(&path, i == 0 ? "%s/%s.tmpl" : "%s/prompts/%s.tmpl", dirs[i], name) < 0)
                        return -ENOMEM;
                int r = read_file_bounded(path, MAX_PROMPT_TEMPLATE, ret, ret_len);
                if (r != -ENOENT)
                        return r;
        }
        return -ENOENT;
}

static int render(const struct gen_request *req, const char *name, const struct node *ctx, char **ret,
                  char **ret_error) {
        const struct template_env env = { .load = load, .userdata = (void *) req->options,
                                          .escape = TEMPLATE_ESC_NONE };
        _cleanup_free_ char *src = NULL;
        _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
        size_t len;
        int r = load((void *) req->options, name, &src, &len);
        if (r < 0) {
                if (asprintf(ret_error, "failed to read the prompt template %s.tmpl: %s", name, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        strbuf_init(&out, MAX_PROMPT);
        _cleanup_free_ char *label = NULL;
        if (asprintf(&label, "%s.tmpl", name) < 0)
                return -ENOMEM;
        r = template_render(&env, label, src, len, ctx, &out, ret_error);
        if (r < 0)
                return r;
        *ret = strbuf_detach(&out, NULL);
        return 0;
}

static struct node *atom_node(const struct atom *a) {
        struct node *m = node_new_map();
        if (!m || node_map_set_string(m, "id", a->id) < 0 ||
            node_map_set_string(m, "kind", atom_kind_name(a->kind)) < 0 ||
            node_map_set_string(m, "target", a->target) < 0 ||
            node_map_set_string(m, "entity", a->entity) < 0 ||
            node_map_set_string(m, "operation", a->operation) < 0 ||
            node_map_set_string(m, "description", a->description ? a->description : "") < 0 ||
            node_map_set_bool(m, "fragment", a->fragment_count > 1) < 0) {
                node_free(m);
                return NULL;
        }
        return m;
}

/* The target of the authentication module: the app atom named like *auth*.py (the
 * pattern backend's rule, docs/templates.md), or NULL. */
static const char *auth_target(const struct dag *dag) {
        for (size_t i = 0; i < dag->n_atoms; i++) {
                const struct atom *a = &dag->atoms[i];
                const char *slash = strrchr(a->target, '/'), *base = slash ? slash + 1 : a->target;
                if (a->kind == AK_APP && fnmatch("*auth*.py", base, 0) == 0 && fnmatch("*error*.py", base, 0) != 0)
                        return a->target;
        }
        return NULL;
}

int prompt_system(const struct gen_request *req, char **ret, char **ret_error) {
        _cleanup_node_ struct node *ctx = node_new_map();
        const struct spec *s = req->spec;
        struct node *atoms;
        if (!ctx || node_map_set_string(ctx, "project", s->name) < 0 ||
            node_map_set_string(ctx, "spec", req->spec_text ? req->spec_text : "") < 0 ||
            node_map_set_string(ctx, "auth", auth_kind_name(s->auth)) < 0 ||
            node_map_set_bool(ctx, "has_auth", s->auth != AUTH_NONE) < 0 ||
            node_map_set_bool(ctx, "auth_reads", s->auth != AUTH_NONE && s->auth_reads) < 0 ||
            node_map_set_string(ctx, "auth_module", auth_target(req->dag)) < 0 ||
            node_map_set(ctx, "atoms", atoms = node_new_seq()) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < req->dag->n_atoms; i++)
                if (node_seq_append(atoms, atom_node(&req->dag->atoms[i])) < 0)
                        return -ENOMEM;
        return render(req, "system", ctx, ret, ret_error);
}

static bool signature_line(const char *l, size_t n) {
        static const char *const starts[] = { "class ", "def ", "async def ", "@", "from ", "import " };
        size_t indent = strspn(l, " \t");
        for (size_t i = 0; i < ELEMENTSOF(starts); i++)
                if (n - indent >= strlen(starts[i]) && strncmp(l + indent, starts[i], strlen(starts[i])) == 0)
                        return indent == 0 || i < 4;
        /* module-level names: NAME = / NAME: type */
        if (indent == 0 && n > 0 && (l[0] == '_' || (l[0] >= 'A' && l[0] <= 'Z') || (l[0] >= 'a' && l[0] <= 'z'))) {
                size_t k = strspn(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
                return k < n && (l[k] == ':' || (l[k] == ' ' && k + 1 < n && (l[k + 1] == '=' || l[k + 1] == ':')) || l[k] == '=');
        }
        return false;
}

char *prompt_signatures(const char *text) {
        struct strbuf sb;
        strbuf_init(&sb, 0);
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                if (signature_line(p, n) && (strbuf_add(&sb, p, n) < 0 || strbuf_addc(&sb, '\n') < 0)) {
                        strbuf_free(&sb);
                        return NULL;
                }
                p += n + (p[n] == '\n');
        }
        return strbuf_detach(&sb, NULL);
}

int prompt_atom(const struct gen_request *req, const char *draft, char **ret, char **ret_error) {
        const struct atom *a = req->atom;
        _cleanup_node_ struct node *ctx = node_new_map();
        struct node *deps;
        size_t used = 0;
        bool reduced = false;
        if (!ctx || node_map_set(ctx, "atom", atom_node(a)) < 0 ||
            node_map_set(ctx, "deps", deps = node_new_seq()) < 0 ||
            node_map_set_string(ctx, "draft", draft && *draft ? draft : NULL) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_deps; i++) {
                const struct atom *d = &req->dag->atoms[a->dep_idx[i]];
                _cleanup_free_ char *path = NULL, *text = NULL, *sig = NULL;
                size_t len = 0;
                if (asprintf(&path, "%s/frags/%s.frag", req->work_dir, d->id) < 0)
                        return -ENOMEM;
                int r = read_file_bounded(path, MAX_FRAG, &text, &len);
                if (r < 0) {
                        if (asprintf(ret_error, "failed to read the output of atom '%s': %s", d->id, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                bool sig_only = used + len > PROMPT_CONTEXT_BUDGET;
                if (sig_only) {
                        if (!(sig = prompt_signatures(text)))
                                return -ENOMEM;
                        reduced = true;
                } else
                        used += len;
                struct node *m = node_new_map();
                if (node_seq_append(deps, m) < 0 || node_map_set_string(m, "target", d->target) < 0 ||
                    node_map_set_string(m, "text", sig_only ? sig : text) < 0 ||
                    node_map_set_bool(m, "signatures_only", sig_only) < 0)
                        return -ENOMEM;
        }
        if (node_map_set_bool(ctx, "has_deps", a->n_deps > 0) < 0 ||
            node_map_set_bool(ctx, "reduced", reduced) < 0)
                return -ENOMEM;
        return render(req, "atom", ctx, ret, ret_error);
}

int prompt_repair(const struct gen_request *req, const char *text, const struct node *errors, char **ret,
                  char **ret_error) {
        _cleanup_node_ struct node *ctx = node_new_map();
        if (!ctx || node_map_set_string(ctx, "target", req->atom->target) < 0 ||
            node_map_set_string(ctx, "id", req->atom->id) < 0 ||
            node_map_set_string(ctx, "text", text) < 0 ||
            node_map_set(ctx, "errors", errors ? node_dup(errors) : node_new_seq()) < 0)
                return -ENOMEM;
        return render(req, "repair", ctx, ret, ret_error);
}

int prompt_cache_key(const struct gen_request *req, const char *draft, struct sha256_ctx *c, char **ret_error) {
        static const char *const names[] = { "system", "atom", "repair" };
        _cleanup_free_ char *user = NULL;
        _cleanup_node_ struct node *layout = node_new_seq();
        _cleanup_strbuf_ struct strbuf yaml = STRBUF_INIT;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = load((void *) req->options, names[i], &text, &len);
                if (r < 0 && r != -ENOENT)
                        return r;
                backend_key_adds(c, "prompt.template", names[i]);
                backend_key_add(c, "prompt.text", text, len);
        }
        /* the system part's layout; its spec is the excerpt in the common key */
        if (!layout)
                return -ENOMEM;
        for (size_t i = 0; i < req->dag->n_atoms; i++)
                if (node_seq_append(layout, atom_node(&req->dag->atoms[i])) < 0)
                        return -ENOMEM;
        strbuf_init(&yaml, 0);
        if ((r = doc_emit_yaml(layout, &yaml)) < 0)
                return r;
        backend_key_add(c, "prompt.layout", yaml.buf ? yaml.buf : "", yaml.len);
        if ((r = prompt_atom(req, draft, &user, ret_error)) < 0)
                return r;
        backend_key_adds(c, "prompt.user", user);
        return 0;
}
