/* analyze-cmd.h - `codegend analyze`: the content metrics of an existing project.
 *
 *   codegend analyze PATH [--format yaml|json] [--spec SPEC] [--help]
 *
 * Prints what a job tarball's .codegen/metrics.yaml holds (files, loc, syntax, quality,
 * success_criteria; docs/metrics.md) for a project directory or a project archive, plus
 * the Python files with syntax errors. See analyze-cmd.c for the details.
 */
#pragma once

/* argv[0] is "analyze"; the options and PATH follow. Logs its own failures to stderr and
 * returns the exit status: 0 analysed (whatever the figures), 1 the input could not be
 * read or unpacked (or writing the report failed), 2 a usage error. */
int analyze_main(int argc, char **argv);
