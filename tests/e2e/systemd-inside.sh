#!/bin/sh
# systemd-inside.sh - run at boot, as root, inside the Debian 12 system that
# tests/e2e/systemd-boot.sh boots with systemd as PID 1 (a unit of that system starts it).
# It follows the README's "Under systemd" steps word for word on `make install`'s output and
# checks what the README and the units promise. It prints "ok - ..." / "not ok - ..." lines
# with "# " diagnostics (the host numbers them into TAP), then "# done", and powers off.
# /root/codegend holds the source tree's spool-example/; the install is already done.
set -u
SPOOL=/var/spool/codegend
CONF=/etc/codegend/codegend.yaml
NIGHTLY=/var/lib/codegend/nightly
T=/run/codegend-test
mkdir -p "$T"

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() {
        desc=$1; shift
        if "$@" >"$T/check.out" 2>&1; then ok "$desc"; else
                not_ok "$desc"; sed 's/^/# /' "$T/check.out" | head -40
        fi
}
# wait_for COND [SECONDS]: polls a shell condition every 0.2 s (default 30 s)
wait_for() {
        n=0; max=$((${2:-30} * 5))
        while ! sh -c "$1" >/dev/null 2>&1; do
                n=$((n + 1)); [ $n -ge $max ] && return 1; sleep 0.2
        done
}
# journal_has FIELD=VALUE PATTERN: the daemon's journal has an entry with that field whose
# JSON matches PATTERN (journald may take a moment to store what it received)
journal_has() {
        wait_for "journalctl -q -u codegend -o json '$1' | grep -q -- '$2'" 15 ||
                { journalctl -q -u codegend -o json "$1" | tail -5; return 1; }
}
mode_of() { stat -c '%a %U %G' "$1"; }
# the end of the run: the host reads our output, then waits for the container to stop
end() {
        echo "# done"
        systemctl poweroff --no-block
        exit 0
}

state=$(systemctl is-system-running --wait 2>&1)
echo "# boot: $state"
[ "$state" = running ] || systemctl --no-legend --failed | sed 's/^/# failed unit: /'

cd /root/codegend || { not_ok "the source tree's spool-example is in /root/codegend"; end; }

# ---- the README, "Under systemd", after make install ----
check "systemd-sysusers && systemd-tmpfiles --create" sh -c 'systemd-sysusers && systemd-tmpfiles --create'
useradd -m -s /bin/sh alice && useradd -m -s /bin/sh bob || not_ok "useradd alice, bob"
check "usermod -aG codegen alice" usermod -aG codegen alice
check "systemctl daemon-reload && systemctl enable --now codegend codegend-nightly.timer" \
        sh -c 'systemctl daemon-reload && systemctl enable --now codegend codegend-nightly.timer'
check "codegend is active (Type=notify: started once READY=1 arrived)" \
        sh -c 'test "$(systemctl is-active codegend)" = active'
check "its STATUS= came through the notify socket" \
        sh -c 'systemctl show -p StatusText --value codegend | grep -Eq "^[0-9]+ running, [0-9]+ queued, [0-9]+ done, [0-9]+ failed"'
level=$(systemd-analyze security codegend 2>&1 | sed -n 's/.*Overall exposure level for codegend.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security rates the running codegend.service ${level:-?} (README: 1.2; at most 1.5)" \
        awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 1.5) }'
check "codegenctl submit spool-example/taskmanager && codegenctl wait taskmanager" \
        sh -c 'codegenctl submit spool-example/taskmanager && codegenctl wait taskmanager --timeout 300'
check "the outbox has the tarball and the report" \
        sh -c "test -s $SPOOL/outbox/taskmanager.tar.gz && grep -qx 'status: succeeded' $SPOOL/outbox/taskmanager.metrics.yaml"
check "codegenctl status taskmanager says done" sh -c 'codegenctl status taskmanager | grep -q done'
check "systemctl status codegend shows the counts" \
        sh -c 'systemctl status --no-pager codegend | grep -Eq "Status: \"[0-9]+ running, [0-9]+ queued, [1-9][0-9]* done"'

# ---- the journal ----
check "the journal has the job's entries with CODEGEN_JOB= (journalctl -u codegend CODEGEN_JOB=taskmanager)" \
        journal_has CODEGEN_JOB=taskmanager '"CODEGEN_JOB":"taskmanager"'
check "... and one line for the job's end with its figures" \
        sh -c "journalctl -q -u codegend -o cat CODEGEN_JOB=taskmanager | grep -E 'taskmanager.*(files|atoms)'"

# ---- sysusers.d and tmpfiles.d ----
check "sysusers made the codegen system user and group, home the spool, no login shell" \
        sh -c "getent passwd codegen | grep -Eq '^codegen:x:[0-9]+:[0-9]+:[^:]*:$SPOOL:(/usr/sbin/nologin|/sbin/nologin)$' &&
               getent group codegen | grep -Eq '^codegen:x:[0-9]+:(.*,)?alice(,.*)?$' &&
               test \"\$(id -u codegen)\" -lt 1000"
for d in "$SPOOL" "$SPOOL/inbox" "$SPOOL/outbox" "$SPOOL/failed" "$SPOOL/.codegend" \
         "$SPOOL/.codegend/jobs" "$SPOOL/.codegend/cancel" "$NIGHTLY"; do
        check "tmpfiles: $d is 2770 codegen codegen" sh -c "test \"\$(stat -c '%a %U %G' '$d')\" = '2770 codegen codegen' || stat -c '%a %U %G' '$d'"
done
check "tmpfiles: /etc/codegend/credentials is 700 root root" \
        sh -c 'test "$(stat -c "%a %U %G" /etc/codegend/credentials)" = "700 root root"'
check "the daemon runs as codegen:codegen" \
        sh -c 'test "$(stat -c "%U %G" /proc/"$(systemctl show -p MainPID --value codegend)")" = "codegen codegen"'
check "the outputs belong to the group codegen and others cannot read them" \
        sh -c "stat -c '%G %A' $SPOOL/outbox/taskmanager.tar.gz | grep -Eq '^codegen -r.-r.----$' || ls -l $SPOOL/outbox"

# ---- a member of codegen submits and reads; another user cannot ----
cp -R spool-example/taskmanager /home/alice/alicejob && chown -R alice:alice /home/alice/alicejob
cp -R spool-example/taskmanager /home/bob/bobjob && chown -R bob:bob /home/bob/bobjob
check "alice (group codegen) submits and waits: codegenctl submit alicejob && codegenctl wait alicejob" \
        runuser -u alice -- sh -c 'cd && codegenctl submit alicejob && codegenctl wait alicejob --timeout 300'
check "alice reads the outputs and lists the jobs" \
        runuser -u alice -- sh -c "cat $SPOOL/outbox/alicejob.metrics.yaml >/dev/null && tar -tzf $SPOOL/outbox/alicejob.tar.gz >/dev/null && codegenctl list | grep -q alicejob"
check "bob (not in codegen) cannot submit" \
        runuser -u bob -- sh -c 'cd && ! codegenctl submit bobjob'
check "bob cannot read the outbox" \
        runuser -u bob -- sh -c "! ls $SPOOL/outbox && ! cat $SPOOL/outbox/taskmanager.metrics.yaml"
check "nothing of bob's reached the inbox" sh -c "! ls -A $SPOOL/inbox | grep -q bobjob"

# ---- reload ----
cp "$CONF" "$T/good.yaml"
check "systemctl reload codegend" systemctl reload codegend
check "... is logged as a reload and the daemon stays active" \
        sh -c 'for i in $(seq 50); do journalctl -q -u codegend -o cat | grep -q "configuration reloaded" && break; sleep 0.2; done;
               journalctl -q -u codegend -o cat | grep -q "configuration reloaded" && test "$(systemctl is-active codegend)" = active'
printf 'workers: [\n' >>"$CONF"
check "systemctl reload with a bad codegend.yaml: refused with file:line:column, the old one kept, still active" \
        sh -c "systemctl reload codegend; for i in \$(seq 50); do journalctl -q -u codegend -o cat | grep -q 'keeping the current one' && break; sleep 0.2; done;
               journalctl -q -u codegend -o cat | grep -E '^$CONF:[0-9]+:[0-9]+: ' &&
               journalctl -q -u codegend -o cat | grep -q 'invalid configuration in $CONF: keeping the current one' &&
               test \"\$(systemctl is-active codegend)\" = active"
cp "$T/good.yaml" "$CONF"
check "a reload with the good file again" systemctl reload codegend

# ---- the nightly timer and its service ----
check "systemctl list-timers shows codegend-nightly.timer" \
        sh -c 'systemctl list-timers --no-pager | grep -q "codegend-nightly.timer.*codegend-nightly.service"'
cp -R spool-example/taskmanager "$NIGHTLY/nightlyjob"
check "the nightly service (its sandbox, as codegen) re-submits the nightly directory" \
        sh -c 'systemctl start codegend-nightly.service && codegenctl wait nightlyjob --timeout 300'
check "the nightly re-run of an unchanged bundle made no model call and hit the cache" \
        sh -c "systemctl start codegend-nightly.service && codegenctl wait nightlyjob --timeout 300 &&
               grep -Eq 'cache_hits: [1-9]' $SPOOL/outbox/nightlyjob.metrics.yaml && grep -q 'calls: 0' $SPOOL/outbox/nightlyjob.metrics.yaml"

# ---- a failing atom: its journal entries name it; codegenctl retry ----
mkdir -p /etc/systemd/system/codegend.service.d
printf '[Service]\nEnvironment=CODEGEND_FAULT_INJECT=readme=exit\n' >/etc/systemd/system/codegend.service.d/fault.conf
systemctl daemon-reload && systemctl restart codegend
cp -R spool-example/taskmanager "$T/failjob"
check "a job whose atom fails: codegenctl wait exits 1, failed/ has its error report" \
        sh -c "codegenctl submit $T/failjob; codegenctl wait failjob --timeout 300; test \$? -eq 1 &&
               grep -q 'stage: generation' $SPOOL/failed/failjob.error.yaml"
check "the journal names the failing atom: CODEGEN_ATOM=readme, CODEGEN_JOB=failjob" \
        journal_has CODEGEN_ATOM=readme '"CODEGEN_JOB":"failjob"'
check "... with CODEGEN_STAGE=generation and PRIORITY=4" \
        sh -c "journalctl -q -u codegend -o json CODEGEN_JOB=failjob CODEGEN_ATOM=readme | grep '\"CODEGEN_STAGE\":\"generation\"' | grep -q '\"PRIORITY\":\"4\"'"
rm /etc/systemd/system/codegend.service.d/fault.conf
systemctl daemon-reload && systemctl restart codegend
check "codegenctl retry failjob, then it succeeds" \
        sh -c 'codegenctl retry failjob && codegenctl wait failjob --timeout 300'

# ---- stop drains: a running atom finishes, the job resumes at the next start ----
printf '[Service]\nEnvironment=CODEGEND_FAULT_INJECT=readme=sleep:4\n' >/etc/systemd/system/codegend.service.d/slow.conf
systemctl daemon-reload && systemctl restart codegend
cp -R spool-example/taskmanager "$T/drainjob"
codegenctl submit "$T/drainjob" >/dev/null || not_ok "codegenctl submit drainjob"
# the job runs, and its other atoms take milliseconds: readme's 4 s sleep is running
wait_for "codegenctl status drainjob | grep -q running" 30 && sleep 1
start=$(date +%s)
check "systemctl stop codegend while an atom runs" systemctl stop codegend
took=$(($(date +%s) - start))
check "... drained: STOPPING, the running atom was waited for (took ${took} s), a clean stop" \
        sh -c "journalctl -q -u codegend -o cat | grep -Eq 'stopping; waiting up to [0-9]+ s for [1-9][0-9]* running atoms' &&
               ! journalctl -q -u codegend -o cat | grep -q 'killing them' &&
               test \"\$(systemctl show -p Result --value codegend)\" = success && test $took -lt 60"
check "... the unfinished job stays in the spool" \
        sh -c "test ! -e $SPOOL/outbox/drainjob.metrics.yaml && ls $SPOOL/.codegend/jobs | grep -q ."
rm /etc/systemd/system/codegend.service.d/slow.conf
systemctl daemon-reload
check "systemctl start codegend: the drained job resumes and succeeds" \
        sh -c 'systemctl start codegend && codegenctl wait drainjob --timeout 300'
# ---- API keys through LoadCredential= from /etc/codegend/credentials ----
# a model job against a closed loopback port: without a key it fails for want of one, with
# the credential it gets as far as the connection
sed -i -e 's|^anthropic:$|anthropic:\n  base_url: http://127.0.0.1:9\n  model: claude-sonnet-4-5|' \
       -e 's|^  max_retries: 4 |  max_retries: 0 |' "$CONF"
systemctl restart codegend
# model_job NAME: a copy of the reference job for the anthropic backend, submitted and waited
# for; it must fail (exit 1), and its error report is printed
model_job() {
        cp -R spool-example/taskmanager "$T/$1" && printf 'backend: anthropic\n' >"$T/$1/job.yaml" &&
                codegenctl submit "$T/$1" >/dev/null || return 1
        codegenctl wait "$1" --timeout 120
        rc=$?
        cat "$SPOOL/failed/$1.error.yaml"
        [ $rc -eq 1 ]
}
no_key() { model_job nokey >"$T/nokey.out" && grep -q 'has no API key' "$T/nokey.out" || { cat "$T/nokey.out"; return 1; }; }
with_key() {
        model_job withkey >"$T/withkey.out" && ! grep -q 'no API key' "$T/withkey.out" &&
                grep -qi 'connect' "$T/withkey.out" || { cat "$T/withkey.out"; return 1; }
}
check "without a credential a model job fails for want of an API key" no_key
echo 'sk-test-not-a-key' >/etc/codegend/credentials/anthropic_api_key
chmod 600 /etc/codegend/credentials/anthropic_api_key
systemctl restart codegend
check "the credential directory reaches the daemon (\$CREDENTIALS_DIRECTORY/api-keys_anthropic_api_key)" \
        test -s /run/credentials/codegend.service/api-keys_anthropic_api_key
check "with /etc/codegend/credentials/anthropic_api_key a model job has its key and fails at the connection" with_key
cp "$T/good.yaml" "$CONF"
rm /etc/codegend/credentials/anthropic_api_key
systemctl restart codegend

check "the watchdog never restarted the daemon" sh -c 'test "$(systemctl show -p NRestarts --value codegend)" = 0'

end
