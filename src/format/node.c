/* node.c - the document tree shared by parsers, validators, reports and templates;
 * see node.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "shared/macro.h"

static struct node *node_new(enum node_kind kind) {
        struct node *n = calloc(1, sizeof(*n));
        if (n)
                n->kind = kind;
        return n;
}

struct node *node_new_null(void) {
        return node_new(NODE_NULL);
}

struct node *node_new_scalarn(const char *value, size_t len, bool quoted) {
        struct node *n = node_new(NODE_SCALAR);
        if (!n)
                return NULL;
        n->value = strndup(value, len);
        if (!n->value) {
                free(n);
                return NULL;
        }
        n->quoted = quoted;
        return n;
}

struct node *node_new_scalar(const char *value, bool quoted) {
        return node_new_scalarn(value, strlen(value), quoted);
}

struct node *node_new_string(const char *value) {
        return node_new_scalar(value, true);
}

struct node *node_new_bool(bool b) {
        return node_new_scalar(b ? "true" : "false", false);
}

struct node *node_new_int(long long v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        return node_new_scalar(buf, false);
}

struct node *node_new_map(void) {
        return node_new(NODE_MAP);
}

struct node *node_new_seq(void) {
        return node_new(NODE_SEQ);
}

void node_free(struct node *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n; i++) {
                if (n->keys)
                        node_free(n->keys[i]);
                node_free(n->items[i]);
        }
        free(n->keys);
        free(n->items);
        free(n->value);
        free(n);
}

static int node_reserve(struct node *n) {
        if (n->n < n->alloc)
                return 0;
        size_t na = n->alloc ? n->alloc * 2 : 4;
        struct node **items = realloc(n->items, na * sizeof(*items));
        if (!items)
                return -ENOMEM;
        n->items = items;
        if (n->kind == NODE_MAP) {
                struct node **keys = realloc(n->keys, na * sizeof(*keys));
                if (!keys)
                        return -ENOMEM;
                n->keys = keys;
        }
        n->alloc = na;
        return 0;
}

int node_map_set_node(struct node *map, struct node *key, struct node *value) {
        if (!key || !value || map->kind != NODE_MAP || key->kind != NODE_SCALAR ||
            node_reserve(map) < 0) {
                node_free(key);
                node_free(value);
                return -ENOMEM;
        }
        map->keys[map->n] = key;
        map->items[map->n] = value;
        map->n++;
        return 0;
}

int node_map_set(struct node *map, const char *key, struct node *value) {
        return node_map_set_node(map, node_new_string(key), value);
}

int node_seq_append(struct node *seq, struct node *item) {
        if (!item || seq->kind != NODE_SEQ || node_reserve(seq) < 0) {
                node_free(item);
                return -ENOMEM;
        }
        seq->items[seq->n++] = item;
        return 0;
}

int node_map_set_string(struct node *map, const char *key, const char *value) {
        return node_map_set(map, key, value ? node_new_string(value) : node_new_null());
}

int node_map_set_bool(struct node *map, const char *key, bool value) {
        return node_map_set(map, key, node_new_bool(value));
}

int node_map_set_int(struct node *map, const char *key, long long value) {
        return node_map_set(map, key, node_new_int(value));
}

long node_key_index(const struct node *map, const char *key) {
        if (!map || map->kind != NODE_MAP)
                return -1;
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->keys[i]->value, key))
                        return (long) i;
        return -1;
}

const struct node *node_get(const struct node *map, const char *key) {
        long i = node_key_index(map, key);
        return i < 0 ? NULL : map->items[i];
}

static bool plain_is(const struct node *n, const char *const *words) {
        if (!n || n->kind != NODE_SCALAR || n->quoted)
                return false;
        for (; *words; words++)
                if (streq(n->value, *words))
                        return true;
        return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", NULL };
static const char *const false_words[] = { "false", "False", "FALSE", NULL };

bool node_is_null(const struct node *n) {
        return !n || n->kind == NODE_NULL || plain_is(n, null_words);
}

int node_as_bool(const struct node *n, bool *ret) {
        if (plain_is(n, true_words))
                *ret = true;
        else if (plain_is(n, false_words))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

int node_as_int(const struct node *n, long long *ret) {
        if (!n || n->kind != NODE_SCALAR || n->quoted || !*n->value)
                return -EINVAL;
        const char *s = n->value;
        if (s[0] == '+' || s[0] == '-')
                s++;
        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        errno = 0;
        long long v = strtoll(n->value, NULL, 10);
        if (errno == ERANGE)
                return -ERANGE;
        *ret = v;
        return 0;
}

int node_as_double(const struct node *n, double *ret) {
        if (!n || n->kind != NODE_SCALAR || n->quoted || !*n->value)
                return -EINVAL;
        const char *s = n->value;
        /* YAML 1.2 core / JSON numbers: [-+]? digits [. digits] [e[-+]digits] */
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        bool digits = false;
        while (*p >= '0' && *p <= '9')
                p++, digits = true;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9')
                        p++, digits = true;
        }
        if (!digits)
                return -EINVAL;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!(*p >= '0' && *p <= '9'))
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p)
                return -EINVAL;
        /* overflow is an error; underflow (ERANGE with a tiny or zero result) is a number */
        double v = strtod(s, NULL);
        if (!isfinite(v))
                return -ERANGE;
        *ret = v;
        return 0;
}

bool node_is_string(const struct node *n) {
        if (!n || n->kind != NODE_SCALAR)
                return false;
        if (n->quoted)
                return true;
        bool b;
        double d;
        return !node_is_null(n) && node_as_bool(n, &b) < 0 && node_as_double(n, &d) < 0;
}

const char *node_kind_name(const struct node *n) {
        if (node_is_null(n))
                return "null";
        switch (n->kind) {
        case NODE_MAP:
                return "mapping";
        case NODE_SEQ:
                return "sequence";
        default:
                break;
        }
        bool b;
        double d;
        if (!n->quoted && node_as_bool(n, &b) == 0)
                return "boolean";
        if (!n->quoted && node_as_double(n, &d) == 0)
                return "number";
        return "string";
}

struct node *node_dup(const struct node *n) {
        if (!n)
                return NULL;
        struct node *c = node_new(n->kind);
        if (!c)
                return NULL;
        c->quoted = n->quoted;
        c->line = n->line;
        c->column = n->column;
        if (n->value && !(c->value = strdup(n->value)))
                goto fail;
        for (size_t i = 0; i < n->n; i++) {
                int r = n->kind == NODE_MAP
                                ? node_map_set_node(c, node_dup(n->keys[i]), node_dup(n->items[i]))
                                : node_seq_append(c, node_dup(n->items[i]));
                if (r < 0)
                        goto fail;
        }
        return c;
fail:
        node_free(c);
        return NULL;
}
