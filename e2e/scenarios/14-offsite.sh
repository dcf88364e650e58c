#!/usr/bin/env bash
# Scenario 14: lose everything, restore from the bucket (issue 13, DESIGN §10). A postgres and a
# sqlite app back up with offsite copies, encrypted to an age key made on the host, into a real
# S3 server (SeaweedFS, built from its Go modules) that runs OUTSIDE the cluster: its own Docker
# container on the kind network, as a NAS or cloud bucket outlives a cluster. Then the WHOLE kind
# cluster is deleted AND the backup folder wiped. On a brand-new cluster ONE apply of kab (heal
# on) + the Secret + both apps must bring both back: kab-fetch refills each empty folder from the
# bucket and each app's own restore replays it — every row the backup held. The same objects are
# then decrypted on the host with standard tools only (age -d | zstd -d | tar -x) and compared
# byte for byte. It leaves the new cluster with kab installed and ready, for the scenarios after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-offsite
weed_container=kab-e2e-seaweedfs
work="$(mktemp -d)"
stop_seaweedfs() { docker rm -f "$weed_container" >/dev/null 2>&1 || true; }
trap 'stop_seaweedfs; rm -rf "$work"' EXIT

# --- the bucket, outside the cluster ----------------------------------------------------------
# The cached static weed binary, FROM scratch. On the kind network (which kind keeps when it
# deletes a cluster) pods reach it by IP through the node's masquerade, and so does the host.
weed_dir="$("$KAB_ROOT/e2e/lib/build-seaweedfs.sh")"
mkdir -p "$work/weed-image" "$work/weed-data"
cp "$weed_dir/weed" "$work/weed-image/weed"
printf 'FROM scratch\nCOPY weed /weed\nENTRYPOINT ["/weed"]\n' >"$work/weed-image/Dockerfile"
docker_build -t kab-test/seaweedfs:e2e "$work/weed-image"
stop_seaweedfs
# No -s3.config: it accepts any key, so the Secret's keys only have to be present.
docker run -d --name "$weed_container" --network kind -v "$work/weed-data:/data" --tmpfs /tmp \
  kab-test/seaweedfs:e2e server -s3 -dir=/data -ip=127.0.0.1 -ip.bind=0.0.0.0 -s3.port=8333 \
  -filer.port=8888 -master.volumeSizeLimitMB=64 -volume.max=20 >/dev/null
weed_ip="$(docker inspect -f '{{(index .NetworkSettings.Networks "kind").IPAddress}}' "$weed_container")"
[[ -n "$weed_ip" ]] || fail "the SeaweedFS container has no address on the kind network"
endpoint="http://$weed_ip:8333"
bucket_made() { docker exec -i "$weed_container" /weed shell -master=127.0.0.1:9333 <<<"s3.bucket.create -name kab" >/dev/null 2>&1; }
wait_until 90 "SeaweedFS at $endpoint made the bucket kab" bucket_made

age-keygen -o "$work/key.txt" 2>/dev/null
recipient="$(age-keygen -y "$work/key.txt")"

# The GitOps tree: the apps' namespace, the offsite Secret (in Git it would be a sealed or
# external secret) and the apps; kab's install is added in front on the new cluster.
cat >"$work/namespace.yaml" <<NS
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
  labels: {kab.boa.nu/e2e: "true"}
---
NS
k create secret generic kab-offsite -n "$ns" --dry-run=client -o yaml \
  --from-literal=endpoint="$endpoint" --from-literal=bucket=kab \
  --from-literal=accessKeyID=e2e --from-literal=secretAccessKey=e2e-secret \
  --from-literal=recipients="$recipient" --from-file=identity="$work/key.txt" >"$work/secret.yaml"
sed "s/^  namespace: NS$/  namespace: $ns/" "$MANIFESTS/offsite-apps.yaml" >"$work/apps.yaml"

app_pod() {
  k -n "$ns" get pods -l "app=$1" --field-selector=status.phase=Running \
    --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}' 2>/dev/null
}
sql() { k -n "$ns" exec "$(app_pod sqlite)" -c db -- sqlite3 /data/app.db "$1"; }
psql_app() { k -n "$ns" exec "$(app_pod postgres)" -c postgres -- psql -U postgres -d app -v ON_ERROR_STOP=1 -Atc "$1"; }

# --- the old cluster: both apps write and back up, copies go to the bucket -------------------
clean_backup_folder e2e-offsite-sqlite
clean_backup_folder e2e-offsite-postgres
k delete namespace "$ns" --ignore-not-found --wait=true --timeout=120s >/dev/null
k apply -f "$work/namespace.yaml" -f "$work/secret.yaml" -f "$work/apps.yaml" >&2
k -n "$ns" rollout status deployment/sqlite --timeout=120s >&2 || fail "sqlite did not start"
k -n "$ns" rollout status deployment/postgres --timeout=120s >&2 || fail "postgres did not start"
for app in sqlite postgres; do
  pod="$(app_pod "$app")"
  assert_injected "$ns" "$pod"
  fetch_log="$(k -n "$ns" logs "$pod" -c kab-fetch 2>&1 || true)"
  [[ "$fetch_log" == *"no offsite copy yet"* ]] || fail "kab-fetch of $app on a first deploy did not carry on (its log: $fetch_log)"
done

body="row written at $(date -u +%FT%TZ) ($RANDOM)"
sql "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     INSERT INTO notes (body) VALUES ('first'), ('second'), ('$body');"
[[ "$(sql 'SELECT count(*) FROM notes;')" == 3 ]] || fail "could not write 3 rows into sqlite"
pg_rows=$((100 + RANDOM % 400))
k -n "$ns" exec "$(app_pod postgres)" -c postgres -- psql -U postgres -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE app" >&2
psql_app "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL);
          INSERT INTO t (v) SELECT 'row ' || x FROM generate_series(1, $pg_rows) x;" >/dev/null
pg_sum="$(psql_app 'SELECT md5(string_agg(v, $$,$$ ORDER BY id)) FROM t')"

declare -A stamp=() file=([sqlite]=app.db [postgres]=app.sql.gz) folder=([sqlite]=e2e-offsite-sqlite [postgres]=e2e-offsite-postgres)
uploaded() { agent_status "$ns" "$1" | jq -e '.offsite.lastSuccess != null and .offsite.lastStamp != ""'; }
for app in sqlite postgres; do
  pod="$(app_pod "$app")"
  backup_now "$ns" "$pod" >/dev/null
  wait_until 120 "the offsite upload of $ns/$app" uploaded "$pod"
  stamp[$app]="$(agent_status "$ns" "$pod" | jq -r .offsite.lastStamp)"
  cp "$(host_backup "${folder[$app]}")/${file[$app]}" "$work/backed-up-$app"
done
log "ok: both apps backed up; offsite stamps sqlite ${stamp[sqlite]}, postgres ${stamp[postgres]}"

# --- lose everything: the cluster and every backup folder ------------------------------------
log "deleting the whole cluster $KAB_CLUSTER_NAME and wiping the backup folder $KAB_E2E_HOSTDIR"
delete_cluster
find "${KAB_E2E_HOSTDIR:?}" -mindepth 1 -delete
[[ -z "$(ls -A "$KAB_E2E_HOSTDIR")" ]] || fail "$KAB_E2E_HOSTDIR is not empty after wiping it"
make -C "$KAB_ROOT" --no-print-directory kind-up >&2
load_all_images

# --- one apply of kab + Secret + apps on the brand-new cluster --------------------------------
k kustomize "$MANIFESTS/heal-hostpath" >"$work/kab.yaml"
start=$(now_ms)
# Namespaces first (as Flux and Argo CD sort them); kubectl may report a transient error for an
# object whose API is busy, so the outcome is judged by the apps.
cat "$work/namespace.yaml" "$work/kab.yaml" <(echo ---) "$work/secret.yaml" <(echo ---) "$work/apps.yaml" \
  | k apply -f - >&2 || warn "kubectl apply reported errors; judging by the outcome"

sqlite_restored() {
  local pod; pod="$(app_pod sqlite)"; [[ -n "$pod" ]] || return 1
  [[ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')" == injected ]] || return 1
  [[ "$(sql 'SELECT count(*) FROM notes;' 2>/dev/null)" == 3 ]]
}
postgres_restored() {
  local pod; pod="$(app_pod postgres)"; [[ -n "$pod" ]] || return 1
  [[ "$(k -n "$ns" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')" == injected ]] || return 1
  [[ "$(psql_app 'SELECT count(*) FROM t' 2>/dev/null)" == "$pg_rows" ]]
}
for app in sqlite postgres; do time_until "${app}_restored" "$start" 300 >"$work/rto-$app" & done
wait
sqlite_rto="$(cat "$work/rto-sqlite")" postgres_rto="$(cat "$work/rto-postgres")"
[[ -n "$sqlite_rto" && -n "$postgres_rto" ]] \
  || fail "apps not restored from the bucket within 300 s (sqlite: ${sqlite_rto:-no}, postgres: ${postgres_rto:-no})"
[[ "$(sql 'SELECT body FROM notes WHERE id = 3;')" == "$body" ]] || fail "sqlite row 3 does not hold '$body'"
[[ "$(psql_app 'SELECT md5(string_agg(v, $$,$$ ORDER BY id)) FROM t')" == "$pg_sum" ]] \
  || fail "postgres holds $pg_rows rows but not the same ones"
for app in sqlite postgres; do
  pod="$(app_pod "$app")"
  assert_injected "$ns" "$pod"
  fetch_log="$(k -n "$ns" logs "$pod" -c kab-fetch 2>&1 || true)"
  [[ "$fetch_log" == *"restored the offsite copy"* ]] || fail "kab-fetch of $app did not restore from the bucket (its log: $fetch_log)"
done
declare -A owner=([sqlite]=1000:1000 [postgres]=999:999)
for app in sqlite postgres; do
  for p in "$(host_backup "${folder[$app]}")" "$(host_backup "${folder[$app]}")/${file[$app]}"; do
    [[ "$(stat -c %u:%g "$p")" == "${owner[$app]}" ]] \
      || fail "$p belongs to $(stat -c %u:%g "$p") after the fetch, expected the app's ${owner[$app]}"
  done
done
log "ok: one apply on a new cluster with an empty backup folder: sqlite (3 rows) restored in ${sqlite_rto}s, postgres ($pg_rows rows) in ${postgres_rto}s, from the bucket"

# --- the same objects with standard tools on the host: curl (SeaweedFS's filer serves the
# bucket as /buckets/kab/...), age, zstd, tar ---------------------------------------------------
for app in sqlite postgres; do
  object="$ns/${folder[$app]}/${stamp[$app]}.tar.zst.age"
  curl -fsS -o "$work/$app.age" "http://$weed_ip:8888/buckets/kab/$object" || fail "could not download $object from the bucket"
  mkdir "$work/plain-$app"
  age -d -i "$work/key.txt" "$work/$app.age" | zstd -d | tar -x -C "$work/plain-$app" \
    || fail "age -d | zstd -d | tar -x failed on $object"
  cmp "$work/plain-$app/${file[$app]}" "$work/backed-up-$app" || fail "the decrypted ${file[$app]} of $app differs from the backed-up one"
  cmp "$work/plain-$app/${file[$app]}" "$(host_backup "${folder[$app]}")/${file[$app]}" \
    || fail "the decrypted ${file[$app]} of $app differs from what kab-fetch restored"
done
log "ok: both objects decrypt on the host with age | zstd | tar to the backed-up bytes"

wait_injector_ready 180
log "PASS 14: cluster and backup folder lost; one apply restored postgres and sqlite from the offsite bucket, rows intact; the objects decrypt with standard tools"
delete_namespace "$ns"
