// Package tenancy decides, at admission, whether a pod's namespace may use kab and may use its
// backup-name (DESIGN §11). The mutation stays pure; the webhook calls a Guard after it.
//
//   - namespaces.allow / namespaces.deny (config): names or label selectors; deny wins, an
//     empty allow list allows every namespace.
//   - flat layout: a backup-name belongs to the first namespace that uses it. The claim is a
//     ConfigMap kab-claim-<backup-name> in kab's namespace, created on first use; a pod of
//     another namespace naming it is denied with the owner and the fix. The namespaced layout
//     needs no claims: <namespace>/<backup-name> cannot be named from elsewhere.
package tenancy
