/* template.h - codegend's logic-less template engine (a Mustache subset).
 *
 * Syntax (documented for template authors in docs/templates.md):
 *   {{name}}         value of name, escaped for the template's language (below)
 *   {{{name}}}       value verbatim ({{&name}} is the same)
 *   {{a.b.c}}        dotted lookup; {{.}} is the current item
 *   {{#name}}..{{/name}}  section: once per item of a sequence, once with a map pushed on
 *                    the context, once for a truthy scalar; skipped when falsy
 *   {{^name}}..{{/name}}  inverted section: rendered only when name is falsy
 *   {{>partial}}     another template of the bank, rendered with the current context
 *   {{! comment}}
 * Falsy: absent, null, plain "false", "", an empty sequence or map.
 * Names are looked up from the innermost context outwards. An unknown name in {{name}}
 * is an error (a typo in a template must not silently produce wrong code).
 * Escaping for {{name}}: TEMPLATE_ESC_PYTHON makes the value safe inside a double-quoted
 * Python string literal (backslash, quote, control characters escaped);
 * TEMPLATE_ESC_NONE inserts it verbatim. Standalone tag lines (a section tag alone on
 * its line) leave no blank line behind, as in Mustache.
 */
#pragma once

#include "format/node.h"
#include "shared/strbuf.h"

enum template_escape {
        TEMPLATE_ESC_NONE,
        TEMPLATE_ESC_PYTHON,
};

/* Finds a partial's source by name; returns 0 with *ret (malloc'd) and *ret_len, or a
 * negative errno (-ENOENT when there is none). */
typedef int (*template_loader)(void *userdata, const char *name, char **ret, size_t *ret_len);

struct template_env {
        template_loader load;
        void *userdata;
        enum template_escape escape;
        unsigned max_depth; /* partial nesting, default 16 */
        const struct node *outer; /* looked up after ctx (a job's shared context), or NULL */
};

/* Checks src's syntax without rendering it (partials are not followed): 0, or -EINVAL
 * with *ret_error as template_render() words it, or -ENOMEM. */
int template_check(const char *name, const char *src, size_t len, char **ret_error);

/* Renders src with ctx into out. Returns 0 or a negative errno; on template errors
 * (-EINVAL) *ret_error says what and where ("name:line: unclosed section 'x'"). */
int template_render(const struct template_env *env, const char *name, const char *src,
                    size_t len, const struct node *ctx, struct strbuf *out, char **ret_error);
