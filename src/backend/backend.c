/* backend.c - the table of built-in generation backends.
 *
 * Interface: backend_find() in backend.h: the embedded `pattern` backend, the
 * language-model backends `anthropic` and `openai` (model/), and `hybrid`
 * (backend-hybrid.c); backend_cache_key() and the spec excerpt of the atom cache. No
 * diagnostics, no logging.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "format/doc.h"
#include "shared/fs.h"
#include "shared/macro.h"

static const struct backend *const backends[] = {
        &backend_pattern,
        &backend_anthropic,
        &backend_openai,
        &backend_hybrid,
};

const struct backend *backend_find(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}

/* ---- the atom cache's key (docs/cache.md) ---- */

#define CACHE_KEY_FORMAT "codegend-atom-cache-key 1"
#define MAX_DEP_FRAG (16u << 20)

void backend_key_add(struct sha256_ctx *c, const char *label, const void *data, size_t len) {
        uint8_t n[9];
        uint64_t v = data ? (uint64_t) len : UINT64_MAX;
        sha256_update(c, label, strlen(label) + 1);
        for (size_t i = 0; i < 8; i++)
                n[i] = (uint8_t) (v >> (8 * i));
        n[8] = data ? 1 : 0;
        sha256_update(c, n, sizeof(n));
        if (data && len)
                sha256_update(c, data, len);
}

void backend_key_adds(struct sha256_ctx *c, const char *label, const char *s) {
        backend_key_add(c, label, s, s ? strlen(s) : 0);
}

static bool name_in(const char *name, const char *const *set, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(name, set[i]))
                        return true;
        return false;
}

int backend_spec_excerpt(const struct spec *spec, const struct node *doc, const struct atom *a,
                         struct node **ret) {
        if (!a->entity || !doc || doc->kind != NODE_MAP) {
                *ret = node_dup(doc);
                return *ret || !doc ? 0 : -ENOMEM;
        }
        /* the atom's entity and the entities related to it, either way */
        _cleanup_free_ const char **set = calloc(spec->n_entities + 1, sizeof(char *));
        size_t n = 0;
        if (!set)
                return -ENOMEM;
        set[n++] = a->entity;
        const struct entity *self = spec_find_entity(spec, a->entity);
        for (size_t i = 0; i < spec->n_entities; i++) {
                const struct entity *e = &spec->entities[i];
                bool related = false;
                for (size_t k = 0; self && k < self->n_rels && !related; k++)
                        related = streq_ptr(self->rels[k].target, e->name);
                for (size_t k = 0; k < e->n_rels && !related; k++)
                        related = streq_ptr(e->rels[k].target, a->entity);
                /* a foreign key either way */
                for (size_t k = 0; self && k < self->n_fields && !related; k++)
                        related = streq_ptr(self->fields[k].target, e->name);
                for (size_t k = 0; k < e->n_fields && !related; k++)
                        related = streq_ptr(e->fields[k].target, a->entity);
                if (related && !name_in(e->name, set, n))
                        set[n++] = e->name;
        }
        _cleanup_node_ struct node *m = node_new_map();
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < doc->n; i++) {
                const struct node *k = doc->keys[i], *v = doc->items[i];
                const char *key_name = streq(k->value, "entities") ? "name" : "entity";
                bool filter = v->kind == NODE_SEQ;
                for (size_t j = 0; filter && j < v->n; j++)
                        filter = v->items[j]->kind == NODE_MAP && node_get(v->items[j], key_name);
                if (!filter || v->n == 0) {
                        if (node_map_set(m, k->value, node_dup(v)) < 0)
                                return -ENOMEM;
                        continue;
                }
                struct node *seq = node_new_seq();
                if (node_map_set(m, k->value, seq) < 0)
                        return -ENOMEM;
                for (size_t j = 0; j < v->n; j++) {
                        const struct node *name = node_get(v->items[j], key_name);
                        if (name->kind == NODE_SCALAR && name_in(name->value, set, n) &&
                            node_seq_append(seq, node_dup(v->items[j])) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int backend_cache_key(const struct backend *b, const struct gen_request *req, uint8_t ret[32]) {
        const struct atom *a = req->atom;
        struct sha256_ctx c;
        char num[64];
        int r;

        if (!b->cache_key)
                return -EOPNOTSUPP;
        sha256_init(&c);
        backend_key_adds(&c, "format", CACHE_KEY_FORMAT);
        backend_key_adds(&c, "version", PACKAGE_VERSION);
        backend_key_adds(&c, "backend", b->name);
        backend_key_adds(&c, "atom.id", a->id);
        backend_key_adds(&c, "atom.kind", atom_kind_name(a->kind));
        backend_key_adds(&c, "atom.target", a->target);
        backend_key_adds(&c, "atom.entity", a->entity);
        backend_key_adds(&c, "atom.operation", a->operation);
        backend_key_adds(&c, "atom.description", a->description);
        (void) snprintf(num, sizeof(num), "%u/%u", a->fragment_index, a->fragment_count);
        backend_key_adds(&c, "atom.fragment", num);

        _cleanup_node_ struct node *excerpt = NULL;
        _cleanup_strbuf_ struct strbuf yaml = STRBUF_INIT;
        strbuf_init(&yaml, 0);
        if ((r = backend_spec_excerpt(req->spec, req->spec_doc, a, &excerpt)) < 0 ||
            (excerpt && (r = doc_emit_yaml(excerpt, &yaml)) < 0))
                return r;
        backend_key_add(&c, "spec", yaml.buf ? yaml.buf : "", yaml.len);

        for (size_t i = 0; i < a->n_deps; i++) {
                const struct atom *d = &req->dag->atoms[a->dep_idx[i]];
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t len = 0;
                uint8_t digest[32];
                if (asprintf(&path, "%s/frags/%s.frag", req->work_dir, d->id) < 0)
                        return -ENOMEM;
                if ((r = read_file_bounded(path, MAX_DEP_FRAG, &text, &len)) < 0)
                        return r;
                sha256_buf(text, len, digest);
                backend_key_adds(&c, "dep", d->id);
                backend_key_add(&c, "dep.sha256", digest, sizeof(digest));
        }
        if ((r = b->cache_key(req, &c)) < 0)
                return r;
        sha256_final(&c, ret);
        return 0;
}
