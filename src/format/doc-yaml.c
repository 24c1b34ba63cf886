/* doc-yaml.c - YAML documents to and from struct node: the one wrapper of libyaml.
 *
 * Interface: doc_parse_yaml() and doc_emit_yaml() (doc.h). Parsing uses libyaml's event
 * parser so that every node and every map key keeps its position (mark + 1). Plain "",
 * "~" and null/Null/NULL become NODE_NULL; other scalars keep whether they were quoted (a
 * quoted scalar, or one tagged !!str, is a string). Emitting writes one block document;
 * a quoted scalar that would read back as something else, also for YAML 1.1 readers
 * (yes/no, 0x.., .inf), is double-quoted.
 * Diagnostics (with line:column): libyaml's reader, scanner and parser errors, "empty
 * document", "more than one document", "anchors are not supported", "aliases are not
 * supported", "mapping keys must be scalars", "duplicate key 'k'", "nesting deeper than
 * 64 levels", "unsupported tag 't'". Returns 0, -EINVAL after diagnostics, or -ENOMEM.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "doc-internal.h"
#include "shared/macro.h"

/* ---- YAML parsing ---- */

struct ybuild {
        const char *file;
        struct diags *d;
        struct node *root;
        struct {
                struct node *node;
                struct node *key; /* map: key waiting for its value */
        } stack[DOC_MAX_DEPTH];
        size_t depth;
        bool failed; /* diagnostics were added */
};

/* The path of the innermost open collection's last child (pending = false, e.g. for a map
 * that is being closed), or of the node about to be added to it (pending = true). The
 * ancestors' last children always form the chain down to the innermost collection. */
static int ybuild_path(const struct ybuild *b, struct strbuf *sb, bool pending) {
        if (strbuf_adds(sb, "") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < b->depth; i++) {
                const struct node *n = b->stack[i].node;
                bool top = i + 1 == b->depth;
                int r = 0;
                if (top && pending) {
                        if (n->kind == NODE_SEQ)
                                r = doc_path_push_index(sb, n->n);
                        else if (b->stack[i].key)
                                r = doc_path_push_key(sb, b->stack[i].key->value);
                } else if (n->n > 0) {
                        if (n->kind == NODE_SEQ)
                                r = doc_path_push_index(sb, n->n - 1);
                        else
                                r = doc_path_push_key(sb, n->keys[n->n - 1]->value);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

_printf_(3, 4) static int ybuild_error(struct ybuild *b, const yaml_mark_t *m, const char *fmt,
                                       ...) {
        _cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        if (ybuild_path(b, &path, true) < 0)
                return -ENOMEM;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        b->failed = true;
        return diags_add(b->d, b->file, (unsigned) m->line + 1, (unsigned) m->column + 1,
                         strbuf_str(&path), "%s", msg);
}

/* Adds n (owned) at the current place: root, sequence item, map key or map value. */
static int ybuild_add(struct ybuild *b, struct node *n, const yaml_mark_t *m) {
        if (!n)
                return -ENOMEM;
        n->line = (unsigned) m->line + 1;
        n->column = (unsigned) m->column + 1;
        if (b->depth == 0) {
                b->root = n;
                return 0;
        }
        struct node *top = b->stack[b->depth - 1].node;
        if (top->kind == NODE_SEQ)
                return node_seq_append(top, n);
        if (!b->stack[b->depth - 1].key) {
                if (n->kind != NODE_SCALAR) {
                        /* scalar keys arrive as scalars; only an alias (already
                         * reported) gives a null node here: keep it as an empty key */
                        if (n->kind == NODE_NULL) {
                                n->kind = NODE_SCALAR;
                                n->value = strdup("");
                                if (!n->value) {
                                        node_free(n);
                                        return -ENOMEM;
                                }
                        } else {
                                node_free(n);
                                int r = ybuild_error(b, m, "mapping keys must be scalars");
                                return r < 0 ? r : -EINVAL;
                        }
                }
                b->stack[b->depth - 1].key = n;
                return 0;
        }
        return node_map_set_node(top, TAKE_PTR(b->stack[b->depth - 1].key), n);
}

static int ybuild_push(struct ybuild *b, struct node *n, const yaml_mark_t *m) {
        if (b->depth >= DOC_MAX_DEPTH) {
                node_free(n);
                int r = ybuild_error(b, m, "nesting deeper than %d levels", DOC_MAX_DEPTH);
                return r < 0 ? r : -EINVAL;
        }
        int r = ybuild_add(b, n, m);
        if (r < 0)
                return r;
        b->stack[b->depth].node = n;
        b->stack[b->depth].key = NULL;
        b->depth++;
        return 0;
}

static int ybuild_pop(struct ybuild *b) {
        if (b->depth == 0)
                return -EINVAL;
        b->depth--;
        struct node *n = b->stack[b->depth].node;
        node_free(TAKE_PTR(b->stack[b->depth].key));
        if (n->kind != NODE_MAP)
                return 0;
        _cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
        if (ybuild_path(b, &path, false) < 0)
                return -ENOMEM;
        return doc_check_duplicate_keys(n, b->file, strbuf_str(&path), b->d, &b->failed);
}

static bool tag_is(const yaml_char_t *tag, const char *suffix) {
        return tag && streq((const char *) tag, suffix);
}

/* Checks an explicit tag; *ret_str is set for !!str, *ret_null for !!null. */
static int ybuild_tag(struct ybuild *b, const yaml_char_t *tag, const yaml_mark_t *m,
                      bool scalar, bool *ret_str, bool *ret_null) {
        *ret_str = *ret_null = false;
        if (!tag || (!scalar && tag_is(tag, "!")))
                return 0;
        if (scalar && (tag_is(tag, YAML_STR_TAG) || tag_is(tag, "!")))
                *ret_str = true;
        else if (scalar && tag_is(tag, YAML_NULL_TAG))
                *ret_null = true;
        else if (scalar && (tag_is(tag, YAML_BOOL_TAG) || tag_is(tag, YAML_INT_TAG) ||
                            tag_is(tag, YAML_FLOAT_TAG)))
                ;
        else if (!scalar && (tag_is(tag, YAML_MAP_TAG) || tag_is(tag, YAML_SEQ_TAG)))
                ;
        else {
                int r = ybuild_error(b, m, "unsupported tag '%s'", (const char *) tag);
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}

static bool is_null_word(const char *s) {
        return streq(s, "") || streq(s, "~") || streq(s, "null") || streq(s, "Null") ||
               streq(s, "NULL");
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on, <0 to stop. */
static int ybuild_event(struct ybuild *b, const yaml_event_t *ev, bool *seen_doc) {
        const yaml_mark_t *m = &ev->start_mark;
        bool is_str, is_null;
        int r;

        switch (ev->type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
        case YAML_NO_EVENT:
                return 0;
        case YAML_STREAM_END_EVENT:
                if (!*seen_doc) {
                        r = ybuild_error(b, m, "empty document");
                        return r < 0 ? r : -EINVAL;
                }
                return 1;
        case YAML_DOCUMENT_START_EVENT:
                if (*seen_doc) {
                        r = ybuild_error(b, m, "more than one document");
                        return r < 0 ? r : -EINVAL;
                }
                *seen_doc = true;
                return 0;
        case YAML_ALIAS_EVENT:
                r = ybuild_error(b, m, "aliases are not supported");
                if (r < 0)
                        return r;
                return ybuild_add(b, node_new_null(), m);
        case YAML_SCALAR_EVENT: {
                const char *v = (const char *) ev->data.scalar.value;
                if (ev->data.scalar.anchor && (r = ybuild_error(b, m, "anchors are not supported")) < 0)
                        return r;
                r = ybuild_tag(b, ev->data.scalar.tag, m, true, &is_str, &is_null);
                if (r < 0)
                        return r;
                bool quoted = is_str || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == NODE_MAP &&
                              !b->stack[b->depth - 1].key;
                struct node *n;
                if (!is_key && (is_null || (!quoted && is_null_word(v))))
                        n = node_new_null();
                else
                        n = node_new_scalarn(v, ev->data.scalar.length, quoted);
                return ybuild_add(b, n, m);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
                const yaml_char_t *anchor = seq ? ev->data.sequence_start.anchor
                                                : ev->data.mapping_start.anchor;
                const yaml_char_t *tag = seq ? ev->data.sequence_start.tag
                                             : ev->data.mapping_start.tag;
                if (anchor && (r = ybuild_error(b, m, "anchors are not supported")) < 0)
                        return r;
                r = ybuild_tag(b, tag, m, false, &is_str, &is_null);
                if (r < 0)
                        return r;
                if (b->depth > 0 && b->stack[b->depth - 1].node->kind == NODE_MAP &&
                    !b->stack[b->depth - 1].key) {
                        r = ybuild_error(b, m, "mapping keys must be scalars");
                        return r < 0 ? r : -EINVAL;
                }
                return ybuild_push(b, seq ? node_new_seq() : node_new_map(), m);
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return ybuild_pop(b);
        }
        return 0;
}

static int yaml_parser_diag(const yaml_parser_t *p, const char *data, size_t len,
                            const char *file, struct diags *d) {
        unsigned line, column;
        const char *problem = p->problem ? p->problem : "cannot parse YAML";

        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                /* libyaml gives reader errors (bad UTF-8, control characters) as a byte
                 * offset, not a mark */
                doc_offset_position(data, len, p->problem_offset, &line, &column);
                if (p->problem_value >= 0)
                        return diags_add(d, file, line, column, NULL, "%s (0x%X)", problem,
                                         (unsigned) p->problem_value);
                return diags_add(d, file, line, column, NULL, "%s", problem);
        }
        line = (unsigned) p->problem_mark.line + 1;
        column = (unsigned) p->problem_mark.column + 1;
        if (p->context)
                return diags_add(d, file, line, column, NULL, "%s: %s", p->context, problem);
        return diags_add(d, file, line, column, NULL, "%s", problem);
}

static void ybuild_clear(struct ybuild *b) {
        for (size_t i = 0; i < b->depth; i++)
                node_free(b->stack[i].key);
        node_free(b->root);
}

int doc_parse_yaml(const char *data, size_t len, const char *file, struct node **ret,
                   struct diags *d) {
        struct ybuild b = { .file = file, .d = d };
        yaml_parser_t p;
        bool seen_doc = false;
        int r = 0;

        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *) data, len);
        yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = yaml_parser_diag(&p, data, len, file, d);
                        if (r == 0)
                                r = -EINVAL;
                        break;
                }
                r = ybuild_event(&b, &ev, &seen_doc);
                yaml_event_delete(&ev);
                if (r != 0)
                        break;
        }
        yaml_parser_delete(&p);
        if (r == 1 && b.failed)
                r = -EINVAL;
        if (r < 0) {
                ybuild_clear(&b);
                return r;
        }
        *ret = b.root;
        return 0;
}

/* ---- YAML emitting ---- */

/* Would this text, written as a plain scalar, read back as something other than the
 * same string? Besides our own YAML 1.2 reading, YAML 1.1 readers (PyYAML) take yes/no/
 * on/off, 0x.., 1_000 and .inf as non-strings, so those are quoted as well. */
static bool plain_changes_meaning(const char *s) {
        static const char *const words[] = {
                "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON",
                "off", "Off", "OFF", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN",
                ".NAN", "=", "<<",
        };
        struct node n = { .kind = NODE_SCALAR, .value = (char *) s };

        if (!node_is_string(&n))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq(s, words[i]))
                        return true;
        /* anything that starts like a number and is made of number characters */
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (*p == '.')
                p++;
        if (!(*p >= '0' && *p <= '9'))
                return false;
        return strspn(s, "0123456789+-._:eExXoObBabcdefABCDEF") == strlen(s);
}

struct yemit {
        yaml_emitter_t e;
        struct strbuf *out;
        int write_error;
};

static int yemit_write(void *data, unsigned char *buffer, size_t size) {
        struct yemit *y = data;
        int r = strbuf_add(y->out, buffer, size);
        if (r < 0) {
                y->write_error = r;
                return 0;
        }
        return 1;
}

static int yemit_fail(struct yemit *y) {
        if (y->write_error)
                return y->write_error;
        return y->e.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

static int yemit_scalar(struct yemit *y, const char *value, bool quoted) {
        yaml_event_t ev;
        yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

        if (quoted) {
                if (!*value || plain_changes_meaning(value))
                        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                else if (strchr(value, '\n'))
                        style = YAML_LITERAL_SCALAR_STYLE;
                else
                        style = YAML_ANY_SCALAR_STYLE;
        }
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) value,
                                          (int) strlen(value), 1, 1, style))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        return 0;
}

static int yemit_node(struct yemit *y, const struct node *n) {
        yaml_event_t ev;
        int r;

        if (!n || n->kind == NODE_NULL)
                return yemit_scalar(y, "null", false);
        if (n->kind == NODE_SCALAR)
                return yemit_scalar(y, n->value, n->quoted);
        if (n->kind == NODE_MAP) {
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                         n->n ? YAML_BLOCK_MAPPING_STYLE
                                                              : YAML_FLOW_MAPPING_STYLE))
                        return -ENOMEM;
        } else if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                         n->n ? YAML_BLOCK_SEQUENCE_STYLE
                                                              : YAML_FLOW_SEQUENCE_STYLE))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        for (size_t i = 0; i < n->n; i++) {
                if (n->kind == NODE_MAP && (r = yemit_node(y, n->keys[i])) < 0)
                        return r;
                if ((r = yemit_node(y, n->items[i])) < 0)
                        return r;
        }
        if (n->kind == NODE_MAP ? !yaml_mapping_end_event_initialize(&ev)
                                : !yaml_sequence_end_event_initialize(&ev))
                return -ENOMEM;
        if (!yaml_emitter_emit(&y->e, &ev))
                return yemit_fail(y);
        return 0;
}

int doc_emit_yaml(const struct node *n, struct strbuf *out) {
        struct yemit y = { .out = out };
        yaml_event_t ev;
        size_t saved = out->len;
        int r = 0;

        if (!yaml_emitter_initialize(&y.e))
                return -ENOMEM;
        yaml_emitter_set_output(&y.e, yemit_write, &y);
        yaml_emitter_set_unicode(&y.e, 1);
        yaml_emitter_set_width(&y.e, -1);
        yaml_emitter_set_indent(&y.e, 2);

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
                r = -ENOMEM;
        else if (!yaml_emitter_emit(&y.e, &ev))
                r = yemit_fail(&y);
        if (r >= 0) {
                if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0)
                r = yemit_node(&y, n);
        if (r >= 0) {
                if (!yaml_document_end_event_initialize(&ev, 1))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0) {
                if (!yaml_stream_end_event_initialize(&ev))
                        r = -ENOMEM;
                else if (!yaml_emitter_emit(&y.e, &ev))
                        r = yemit_fail(&y);
        }
        if (r >= 0 && !yaml_emitter_flush(&y.e))
                r = yemit_fail(&y);
        yaml_emitter_delete(&y.e);
        if (r < 0) {
                out->len = saved;
                if (out->buf)
                        out->buf[saved] = '\0';
        }
        return r;
}
