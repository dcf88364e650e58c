#!/usr/bin/env bash
# Scenario 10: zero-touch rebuild in any apply order (issue 14, DESIGN §11). Three apps (plain
# files, sqlite, postgres — pg_dump to back up, psql to restore) back up; then everything kab and the apps put in the cluster is deleted and the
# whole GitOps tree — kab's install with heal on, and the apps — is applied as ONE
# `kubectl apply`, three times: kab first, apps first, shuffled. With apps first, their pods are
# created before the webhook exists and start un-injected; heal must evict them once its webhook
# answers, and their controllers re-create them injected and restored. Pass: every app pod ends
# injected and restored with the rows the last backup held. Prints RPO, RTO and healing per app.
#
# One cluster serves all three orders: the ordering race is between the webhook's registration
# and the apps' pods, and deleting kab-system, the webhook configuration and the apps' namespaces
# reproduces that race exactly; a new kind cluster per order would add minutes and nothing else
# (scenario 4 covers the brand-new cluster itself).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns_notes=kab-e2e-anyorder-notes
ns_sqlite=kab-e2e-anyorder-sqlite
ns_postgres=kab-e2e-anyorder-postgres
overlay="$MANIFESTS/heal-hostpath"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

sed -e "s/NS_NOTES/$ns_notes/g" -e "s/NS_SQLITE/$ns_sqlite/g" -e "s/NS_POSTGRES/$ns_postgres/g" \
  "$MANIFESTS/anyorder-apps.yaml" >"$work/apps.yaml"
k kustomize "$overlay" >"$work/kab.yaml"

# app_pod NS LABEL : the newest Running pod of the app.
app_pod() {
  k -n "$1" get pods -l "app=$2" --field-selector=status.phase=Running \
    --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}' 2>/dev/null
}

# --- before: kab is installed (run.sh); the apps write data and back it up ------------------
clean_backup_folder e2e-anyorder-notes
clean_backup_folder e2e-anyorder-sqlite
clean_backup_folder e2e-anyorder-postgres
k apply -f "$work/apps.yaml" >&2
k -n "$ns_notes" rollout status deployment/notes --timeout=120s >&2 || fail "notes did not start"
k -n "$ns_sqlite" rollout status deployment/sqlite --timeout=120s >&2 || fail "sqlite did not start"
k -n "$ns_postgres" rollout status deployment/postgres --timeout=120s >&2 || fail "postgres did not start"
note="written before the rebuild ($RANDOM$RANDOM)"
pod="$(app_pod "$ns_notes" notes)"
k -n "$ns_notes" exec "$pod" -c notes -- sh -c "echo '$note' > /data/note.txt"
backup_now "$ns_notes" "$pod" >/dev/null
notes_backed_up=$(date +%s)
rows=$((20 + RANDOM % 50))
pod="$(app_pod "$ns_sqlite" sqlite)"
k -n "$ns_sqlite" exec "$pod" -c db -- sqlite3 /data/app.db \
  "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < $rows) INSERT INTO t(v) SELECT 'row ' || x FROM c;"
backup_now "$ns_sqlite" "$pod" >/dev/null
sqlite_backed_up=$(date +%s)
pg_rows=$((100 + RANDOM % 400))
pod="$(app_pod "$ns_postgres" postgres)"
k -n "$ns_postgres" exec "$pod" -c postgres -- psql -U postgres -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE app" >&2
k -n "$ns_postgres" exec "$pod" -c postgres -- psql -U postgres -d app -q -v ON_ERROR_STOP=1 \
  -c "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL); INSERT INTO t (v) SELECT 'row ' || x FROM generate_series(1, $pg_rows) x;" >&2
backup_now "$ns_postgres" "$pod" >/dev/null
postgres_backed_up=$(date +%s)
# A row written after the last backup is what RPO means: it may be lost, the backed-up ones not.
k -n "$ns_postgres" exec "$pod" -c postgres -- psql -U postgres -d app -q -c "INSERT INTO t (v) VALUES ('after the backup')" >&2

# delete_everything : what a lost cluster loses — the apps' namespaces and all of kab.
delete_everything() {
  k delete namespace "$ns_notes" "$ns_sqlite" "$ns_postgres" --ignore-not-found --wait=true --timeout=120s >&2
  k delete -f "$work/kab.yaml" --ignore-not-found --wait=true --timeout=120s >&2 || true
  k delete -k "$KAB_ROOT/deploy/overlays/hostpath" --ignore-not-found --wait=true --timeout=120s >&2 || true
  wait_until 120 "kab-system is gone" bash -c "! kubectl --context '$KAB_KUBE_CONTEXT' get namespace kab-system >/dev/null 2>&1"
}

# tree ORDER : the GitOps tree as one stream, Namespaces first (as Flux and Argo CD sort them,
# and as kubectl needs them), the rest in the order asked for.
tree() {
  local order="$1" docs="$work/docs"
  rm -rf "$docs" && mkdir -p "$docs"
  case "$order" in
    kab-first) cat "$work/kab.yaml" <(echo ---) "$work/apps.yaml" ;;
    apps-first) cat "$work/apps.yaml" <(echo ---) "$work/kab.yaml" ;;
    shuffled) cat "$work/kab.yaml" <(echo ---) "$work/apps.yaml" ;;
  esac | awk -v dir="$docs" 'BEGIN { n = 0 } /^---/ { n++; next } { print > sprintf("%s/%03d.yaml", dir, n) }'
  local f files=()
  for f in "$docs"/*.yaml; do grep -q '[^[:space:]]' "$f" && files+=("$f"); done
  if [[ "$order" == shuffled ]]; then
    mapfile -t files < <(printf '%s\n' "${files[@]}" | shuf --random-source=<(yes 42))
  fi
  for f in "${files[@]}"; do grep -q '^kind: Namespace' "$f" && { cat "$f"; echo ---; }; done
  for f in "${files[@]}"; do grep -q '^kind: Namespace' "$f" || { cat "$f"; echo ---; }; done
}

# restored NS APP : the app's pod is injected, Ready and holds the backed-up data.
notes_restored() {
  local pod; pod="$(app_pod "$ns_notes" notes)"; [[ -n "$pod" ]] || return 1
  [[ "$(k -n "$ns_notes" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')" == injected ]] || return 1
  [[ "$(k -n "$ns_notes" exec "$pod" -c notes -- cat /data/note.txt 2>/dev/null)" == "$note" ]]
}
sqlite_restored() {
  local pod; pod="$(app_pod "$ns_sqlite" sqlite)"; [[ -n "$pod" ]] || return 1
  [[ "$(k -n "$ns_sqlite" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')" == injected ]] || return 1
  [[ "$(k -n "$ns_sqlite" exec "$pod" -c db -- sqlite3 /data/app.db 'SELECT count(*) FROM t' 2>/dev/null)" == "$rows" ]]
}
# postgres answers over its socket with every row of the dump: psql restored all of them.
postgres_restored() {
  local pod; pod="$(app_pod "$ns_postgres" postgres)"; [[ -n "$pod" ]] || return 1
  [[ "$(k -n "$ns_postgres" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')" == injected ]] || return 1
  [[ "$(k -n "$ns_postgres" exec "$pod" -c postgres -- psql -U postgres -d app -Atc 'SELECT count(*) FROM t' 2>/dev/null)" == "$pg_rows" ]]
}

evictions() { k -n "$1" get events --field-selector reason=KabHealEvicted -o name 2>/dev/null | wc -l; }

table=("| order | app | RPO (s) | RTO (s) | heal evictions |" "| --- | --- | --- | --- | --- |")
for order in kab-first apps-first shuffled; do
  log "order $order: deleting the apps and kab, then one apply of the whole tree"
  delete_everything
  deleted_at=$(date +%s)
  tree "$order" >"$work/tree-$order.yaml"
  start=$(now_ms)
  # One apply, as a GitOps tool's first sync. A kab pod admitted before the webhook is in force
  # is exactly what heal is for; kubectl may still report a transient error for objects whose
  # API is busy, so the outcome is judged by the apps, not by the exit code.
  k apply -f "$work/tree-$order.yaml" >&2 || warn "kubectl apply reported errors (order $order); judging by the outcome"
  # One poller per app, so an app's RTO is not held up by the checks of the others.
  for app in notes sqlite postgres; do
    rm -f "$work/rto-$app"
    time_until "${app}_restored" "$start" 300 >"$work/rto-$app" &
  done
  wait
  notes_rto="$(cat "$work/rto-notes")" sqlite_rto="$(cat "$work/rto-sqlite")" postgres_rto="$(cat "$work/rto-postgres")"
  [[ -n "$notes_rto" && -n "$sqlite_rto" && -n "$postgres_rto" ]] \
    || fail "order $order: apps not injected and restored within 300 s (notes: ${notes_rto:-no}, sqlite: ${sqlite_rto:-no}, postgres: ${postgres_rto:-no})"
  for ns in "$ns_notes" "$ns_sqlite" "$ns_postgres"; do
    for p in $(k -n "$ns" get pods -o name); do
      [[ "$(k -n "$ns" get "$p" -o jsonpath='{.status.phase}')" == Running ]] || continue
      assert_injected "$ns" "${p#pod/}"
    done
  done
  table+=("| $order | notes (files) | $((deleted_at - notes_backed_up)) | $notes_rto | $(evictions "$ns_notes") |")
  table+=("| $order | sqlite ($rows rows) | $((deleted_at - sqlite_backed_up)) | $sqlite_rto | $(evictions "$ns_sqlite") |")
  table+=("| $order | postgres ($pg_rows rows) | $((deleted_at - postgres_backed_up)) | $postgres_rto | $(evictions "$ns_postgres") |")
  log "ok: order $order: all three apps injected and restored (notes ${notes_rto}s, sqlite ${sqlite_rto}s, postgres ${postgres_rto}s)"
done

log "rebuild in any order — RPO: age of the restored backup when everything was deleted; RTO: from the apply until the app answers with its data"
printf '%s\n' "${table[@]}" >&2
wait_injector_ready 180
log "PASS 10: one apply of kab + apps in three orders; every app pod injected and restored, 0 rows lost"
delete_namespace "$ns_notes"
delete_namespace "$ns_sqlite"
delete_namespace "$ns_postgres"
