#!/usr/bin/env bash
# Scenario 14: lose everything, restore from the bucket (DESIGN §10). A SeaweedFS S3 server runs
# in the cluster (built from its Go modules, FROM scratch); an age key pair is made on the host.
# The sqlite app (uid 1000) is backed up and its copy uploaded encrypted; then the app AND its
# backup folder are deleted. Re-applied, kab-fetch refills the brand-new, root-owned folder from
# the bucket (as the app's uid) and the app's own restore brings the rows back. The same object
# is then decrypted on the host with standard tools only: age -d | zstd -d | tar -x.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-offsite
name=e2e-offsite
folder="$(host_backup "$name")"
body="row written at $(date -u +%FT%TZ)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The S3 server's image: the cached static weed binary, FROM scratch. Docker's layer cache and
# kind's skip of known image IDs keep a rerun cheap.
weed_dir="$("$KAB_ROOT/e2e/lib/build-seaweedfs.sh")"
mkdir -p "$work/weed-image"
cp "$weed_dir/weed" "$work/weed-image/weed"
printf 'FROM scratch\nCOPY weed /weed\nENTRYPOINT ["/weed"]\n' >"$work/weed-image/Dockerfile"
docker_build -t kab-test/seaweedfs:e2e "$work/weed-image"
load_images kab-test/seaweedfs:e2e

clean_backup_folder "$name"
new_namespace "$ns"
apply_manifest "$ns" seaweedfs.yaml >&2
wait_pod_ready "$ns" seaweedfs 180
k -n "$ns" exec -i seaweedfs -- /weed shell -master=127.0.0.1:9333 <<<"s3.bucket.create -name kab" >&2 \
  || fail "could not create the bucket kab in SeaweedFS"

age-keygen -o "$work/key.txt" 2>/dev/null
recipient="$(age-keygen -y "$work/key.txt")"
k -n "$ns" create secret generic kab-offsite \
  --from-literal=endpoint="http://seaweedfs.$ns.svc:8333" --from-literal=bucket=kab \
  --from-literal=accessKeyID=e2e --from-literal=secretAccessKey=e2e-secret \
  --from-literal=recipients="$recipient" --from-file=identity="$work/key.txt" >/dev/null

apply_manifest "$ns" offsite-sqlite-pod.yaml >&2
wait_pod_ready "$ns" sqlite 180
assert_injected "$ns" sqlite
fetch_log="$(k -n "$ns" logs sqlite -c kab-fetch 2>&1 || true)"
[[ "$fetch_log" == *"no offsite copy yet"* ]] || fail "kab-fetch on a first deploy did not carry on (its log: $fetch_log)"

sql() { k -n "$ns" exec sqlite -c db -- sqlite3 /data/app.db "$1"; }
sql "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     INSERT INTO notes (body) VALUES ('first'), ('second'), ('$body');"
[[ "$(sql 'SELECT count(*) FROM notes;')" == 3 ]] || fail "could not write 3 rows"
backup_now "$ns" sqlite >/dev/null

uploaded() { agent_status "$ns" sqlite | jq -e '.offsite.lastSuccess != null and .offsite.lastStamp != ""'; }
wait_until 120 "the offsite upload of $ns/sqlite" uploaded
stamp="$(agent_status "$ns" sqlite | jq -r .offsite.lastStamp)"
cp "$folder/app.db" "$work/backed-up.db"

# Lose everything: the app, its data (an emptyDir) and the backup folder on the node.
delete_pod "$ns" sqlite
clean_backup_folder "$name"
[[ ! -e "$folder" ]] || fail "$folder still exists after wiping it"

apply_manifest "$ns" offsite-sqlite-pod.yaml >&2
wait_pod_ready "$ns" sqlite 180
fetch_log="$(k -n "$ns" logs sqlite -c kab-fetch 2>&1 || true)"
[[ "$fetch_log" == *"restored the offsite copy"* ]] || fail "kab-fetch did not restore from the bucket (its log: $fetch_log)"
restore_log="$(k -n "$ns" logs sqlite -c kab-restore 2>&1 || true)"
[[ "$restore_log" == *"restored app.db"* ]] || fail "kab-restore did not restore (its log: $restore_log)"
count="$(sql 'SELECT count(*) FROM notes;' 2>&1)" || fail "no notes table after the restore: $count"
[[ "$count" == 3 ]] || fail "expected 3 rows after the restore from the bucket, found $count"
[[ "$(sql 'SELECT body FROM notes WHERE id = 3;')" == "$body" ]] || fail "row 3 does not hold '$body'"
for p in "$folder" "$folder/app.db"; do
  owner="$(stat -c %u:%g "$p")"
  [[ "$owner" == 1000:1000 ]] || fail "$p belongs to $owner after the fetch, expected the app's 1000:1000"
done
log "ok: lost app and folder restored from the bucket, 3 rows, files owned by the app"

# The same object with standard tools on the host: fetched through the API server's proxy to
# SeaweedFS's filer (which serves the bucket as /buckets/kab/...), then age, zstd and tar.
object="$ns/$name/$stamp.tar.zst.age"
k get --raw "/api/v1/namespaces/$ns/pods/seaweedfs:8888/proxy/buckets/kab/$object" >"$work/copy.age" \
  || fail "could not download $object from the bucket"
mkdir "$work/plain"
age -d -i "$work/key.txt" "$work/copy.age" | zstd -d | tar -x -C "$work/plain" \
  || fail "age -d | zstd -d | tar -x failed on $object"
cmp "$work/plain/app.db" "$work/backed-up.db" || fail "the decrypted app.db differs from the backed-up one"
cmp "$work/plain/app.db" "$folder/app.db" || fail "the decrypted app.db differs from what kab-fetch restored"
log "PASS 14: sqlite restored from the offsite copy after losing app and folder; the object decrypts with age | zstd | tar to the same bytes"

delete_namespace "$ns"
