#!/usr/bin/env bash
# Scenario 3: a real database. sqlite3 (Debian's, in an image built here) running as uid 1000
# writes rows; a backup is taken on demand (kab-agent backup-now); the pod and its data volume
# (an emptyDir) are deleted; the re-created pod's restore container brings the rows back.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-sqlite
folder="$(host_backup e2e-sqlite)"
body="row written at $(date -u +%FT%TZ)"

clean_backup_folder e2e-sqlite
new_namespace "$ns"
apply_manifest "$ns" sqlite-pod.yaml >&2
wait_pod_ready "$ns" sqlite
assert_injected "$ns" sqlite

sql() { k -n "$ns" exec sqlite -c db -- sqlite3 /data/app.db "$1"; }
sql "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     INSERT INTO notes (body) VALUES ('first'), ('second'), ('$body');"
[[ "$(sql 'SELECT count(*) FROM notes;')" == 3 ]] || fail "could not write 3 rows"

backup_now "$ns" sqlite >/dev/null
[[ -s "$folder/app.db" ]] || fail "no $folder/app.db after a successful backup"
# The agent hands the root-owned folder kubelet created to the app's uid, and runs the backup as
# that uid: the database copy belongs to the app, not to root.
owner="$(stat -c %u "$folder/app.db")"
[[ "$owner" == 1000 ]] || fail "the backup file belongs to uid $owner, expected the app's uid 1000"
log "ok: backup $folder/app.db written as uid 1000"

delete_pod "$ns" sqlite
apply_manifest "$ns" sqlite-pod.yaml >&2
wait_pod_ready "$ns" sqlite
restore_log="$(k -n "$ns" logs sqlite -c kab-restore 2>&1 || true)"
[[ "$restore_log" == *"restored app.db"* ]] || fail "kab-restore did not restore (its log: $restore_log)"
count="$(sql 'SELECT count(*) FROM notes;' 2>&1)" || fail "no notes table after re-creation: $count"
[[ "$count" == 3 ]] || fail "expected 3 rows after restore, found $count"
[[ "$(sql 'SELECT body FROM notes WHERE id = 3;')" == "$body" ]] || fail "row 3 does not hold '$body'"
log "PASS 3: sqlite rows backed up, pod and data deleted, re-created with all 3 rows back"

delete_namespace "$ns"
