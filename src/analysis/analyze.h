/* analyze.h - metrics of a generated project: per file, per project, per directory tree.
 *
 * Every figure is measured from the files themselves (Python through tree-sitter, see
 * pyast.h); docs/metrics.md defines each one precisely. In short:
 *
 *   analyze_source()   one file: its class for files.by_type, its LOC category for
 *                      loc.by_type, its LOC (non-blank lines) and, for *.py, its syntax
 *                      errors and quality facts.
 *   analyze_project()  many files + the spec's expectations -> the metrics map of
 *                      job-format.md section 5, with EXACTLY the keys
 *                        files:   {total, by_type: {python, migration, config, markdown, other}}
 *                        loc:     {total, by_type: {models, routes, schemas, validations,
 *                                                   tests, migrations, other}}
 *                        syntax:  {errors, files_with_errors, rate}
 *                        quality: {type_hint_coverage, docstring_coverage, functions,
 *                                  error_handling: {try_blocks, raise_statements, http_exceptions},
 *                                  entities: {expected, found}, endpoints: {expected, found}}
 *                        success_criteria: {loc_at_least_1000, entities_and_endpoints,
 *                                  type_hints, docstrings, error_handling, syntax_clean}
 *                      Counts are plain integers, rates and coverages plain decimals rounded
 *                      to 4 places, criteria booleans. The spec may be NULL (nothing expected).
 *   analyze_tree()     the same for a directory (the `codegend analyze` command): regular
 *                      files only, no symbolic link followed, caches and the daemon's
 *                      .codegen/ skipped, at most ANALYZE_TREE_MAX_FILES files (-E2BIG),
 *                      Python files at most ANALYZE_FILE_MAX bytes (-EFBIG).
 *
 * All functions return 0 or a negative errno and never log; outputs are untouched on
 * failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "format/node.h"
#include "pyast.h"
#include "format/spec.h"

#define ANALYZE_FILE_MAX (16u * 1024 * 1024)
#define ANALYZE_TREE_MAX_FILES 10000

enum file_class {
        FILE_CLASS_PYTHON,    /* *.py */
        FILE_CLASS_MIGRATION, /* migrations/ **.py, alembic.ini */
        FILE_CLASS_CONFIG,    /* Dockerfile*, *.yml/yaml/toml/ini/cfg/txt, .env*, .gitignore, .dockerignore */
        FILE_CLASS_MARKDOWN,  /* *.md */
        FILE_CLASS_OTHER,
        _FILE_CLASS_MAX,
};

enum loc_category {
        LOC_MODELS,      /* src/models/ */
        LOC_ROUTES,      /* src/api/routes/ */
        LOC_SCHEMAS,     /* src/api/schemas/ */
        LOC_VALIDATIONS, /* src/validations/ */
        LOC_TESTS,       /* tests/ */
        LOC_MIGRATIONS,  /* migrations/, alembic.ini */
        LOC_OTHER,       /* everything else: services, config, app, docs, infra */
        _LOC_CATEGORY_MAX,
};

enum file_class file_class_of(const char *relpath);
enum loc_category loc_category_of(const char *relpath);
const char *file_class_name(enum file_class c);       /* "python", ... (the YAML keys) */
const char *loc_category_name(enum loc_category c);   /* "models", ... */

/* Lines with at least one character other than space, tab, CR, FF or VT. */
unsigned long count_loc(const char *data, size_t len);

struct file_metrics {
        char *relpath;
        enum file_class cls;
        enum loc_category category;
        bool python;            /* *.py: parsed, errors and facts below are meaningful */
        bool binary;            /* not Python and has a NUL byte: no LOC */
        unsigned long loc;
        struct py_errors errors;
        struct py_facts facts;
};

/* relpath is relative to the project root ("src/models/user.py"). Python files are checked
 * against Python 3.11's syntax (PY_MINOR_DEFAULT); analyze_source_for() against 3.minor
 * (0: the default). */
int analyze_source(const char *relpath, const char *data, size_t len, struct file_metrics *ret);
int analyze_source_for(const char *relpath, const char *data, size_t len, unsigned minor,
                       struct file_metrics *ret);
void file_metrics_clear(struct file_metrics *m);

/* The file's kept syntax errors as a list of {line, column, message, excerpt}. */
int analyze_errors_to_node(const struct file_metrics *m, struct node **ret);

struct analyze_thresholds {
        unsigned long loc_min;           /* loc_at_least_1000: loc.total >= loc_min */
        double type_hints_min;           /* type_hints: type_hint_coverage >= this */
        double docstrings_min;           /* docstrings: docstring_coverage >= this */
        unsigned long syntax_errors_max; /* syntax_clean: syntax.errors <= this */
        unsigned python_minor;           /* valid means valid for Python 3.minor (0: 3.11) */
};

#define ANALYZE_THRESHOLDS_DEFAULT                                                         \
        { .loc_min = 1000, .type_hints_min = 0.95, .docstrings_min = 0.95, .syntax_errors_max = 0, \
          .python_minor = PY_MINOR_DEFAULT }

/* {loc_min, type_hints_min, docstrings_min, syntax_errors_max, python_version: "3.11"},
 * for reports. */
int analyze_thresholds_to_node(const struct analyze_thresholds *th, struct node **ret);

/* "3.11" for python_minor 11 (0: the default) into buf[8]. */
const char *analyze_python_version(unsigned python_minor, char buf[static 8]);
/* Parses "3.11" (3.PY_MINOR_MIN to 3.PY_MINOR_MAX): 0 or -EINVAL. */
int analyze_parse_python_version(const char *text, unsigned *ret_minor);

/* th may be NULL (defaults). */
int analyze_project(const struct file_metrics *files, size_t n, const struct spec *spec,
                    const struct analyze_thresholds *th, struct node **ret);

struct analyze_limits {
        size_t max_files;     /* -E2BIG past this many regular files */
        size_t max_file_size; /* larger files are counted unread (no LOC); Python ones: -EFBIG */
};

#define ANALYZE_LIMITS_DEFAULT { .max_files = ANALYZE_TREE_MAX_FILES, .max_file_size = ANALYZE_FILE_MAX }

/* Every regular file below root, Python checked against 3.python_minor (0: the default) (no symbolic link followed; caches, virtual environments
 * and .codegen/ skipped; docs/metrics.md "Analyzing a tree"), each analysed once, sorted by
 * path. On failure f->failed names the path below root that stopped the walk (when one
 * did); the caller clears f with analyze_files_clear() in every case. */
struct analyze_files {
        struct file_metrics *v;
        size_t n, alloc;
        char *failed;
};
#define ANALYZE_TREE_MAX_DEPTH 64
int analyze_tree_files(const char *root, const struct analyze_limits *lim, unsigned python_minor,
                       struct analyze_files *f);
void analyze_files_clear(struct analyze_files *f);

/* analyze_tree() with the default limits. */
int analyze_tree(const char *root, const struct spec *spec, const struct analyze_thresholds *th,
                 struct node **ret);
/* lim may be NULL (defaults); its sizes are capped at the defaults. */
int analyze_tree_limited(const char *root, const struct spec *spec, const struct analyze_thresholds *th,
                         const struct analyze_limits *lim, struct node **ret);
