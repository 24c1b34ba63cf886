#!/bin/sh
# overrides.sh - a team's patterns_dir overrides one template of the built-in bank; the
# code it writes is measured, not trusted: a template that writes a syntax error gives a
# succeeded job whose metrics name the error (per atom, with line, column and excerpt) and
# whose syntax_clean criterion is false. A broken override fails the job at validation.
. "$(dirname "$0")/lib.sh"

pat="$WORK/patterns"
mkdir -p "$pat"
# the built-in config template plus one line of stray prose, as a language model might add
cp "$top_srcdir/patterns/config.py.tmpl" "$pat/config.py.tmpl"
echo "Here is the settings module you asked for." >> "$pat/config.py.tmpl"
printf 'patterns_dir: %s\n' "$pat" > "$WORK/override.yaml"

sp=$(new_spool override)
cp -r "$REF" "$sp/inbox/taskmanager"
run_once "$sp" --config "$WORK/override.yaml"
m="$sp/outbox/taskmanager.metrics.yaml"
check "a job whose code has a syntax error still succeeds" test "$RC" -eq 0
mkdir -p "$WORK/x" && tar -xzf "$sp/outbox/taskmanager.tar.gz" -C "$WORK/x"
cfg="$WORK/x/taskmanager/src/config.py"
check "the overriding template wrote src/config.py" grep -q "Here is the settings module" "$cfg"
check "the other files still come from the built-in bank" cmp -s "$WORK/x/taskmanager/src/database.py" \
        "$WORK/x/taskmanager/src/database.py"
line=$(grep -n "Here is the settings module" "$cfg" | cut -d: -f1)
check "CPython rejects the file too" sh -c "! '$PY' -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], \"exec\")' '$cfg' 2>/dev/null"
check "the report counts the error in one file and fails syntax_clean" yq_true "$m" \
        "d['syntax']['errors'] >= 1 and d['syntax']['files_with_errors'] == 1 and d['syntax']['rate'] > 0 and d['success_criteria']['syntax_clean'] is False"
check "the config atom lists the error with its line, column and excerpt" yq_true "$m" \
        "[ (e['line'], 'settings module' in e['excerpt']) for a in d['atoms'] if a['id'] == 'config' for e in a['syntax_error_list'] ][0] == ($line, True) and [a for a in d['atoms'] if a['id'] == 'config'][0]['syntax_errors'] >= 1"
check "no other atom has syntax errors" yq_true "$m" \
        "all(a['syntax_errors'] == 0 for a in d['atoms'] if a['id'] != 'config')"
check "the tarball's own metrics carry the same per-atom errors" yq_true "$WORK/x/taskmanager/.codegen/metrics.yaml" \
        "[a['syntax_errors'] for a in d['atoms'] if a['id'] == 'config'][0] >= 1 and d['syntax']['files_with_errors'] == 1"

# a template with a syntax error of the template language fails the job before any worker
printf '{{#project}}unclosed\n' > "$pat/database.py.tmpl"
sp=$(new_spool broken)
cp -r "$REF" "$sp/inbox/taskmanager"
run_once "$sp" --config "$WORK/override.yaml"
e="$sp/failed/taskmanager.error.yaml"
check "a broken override fails the job (exit 1)" test "$RC" -eq 1
check "at validation, naming the template" yq_true "$e" \
        "d['stage'] == 'validation' and any('database.py.tmpl' in x['message'] for x in d['errors'])"
finish
