package tenancy

import (
	"context"
	"fmt"
	"strings"

	"github.com/boanu/kab/injector/config"
)

// NamespaceLabels returns a namespace's labels; selectors in allow/deny need them. The
// injector gives it a namespace informer's lister, so admission does not call the API.
type NamespaceLabels func(ctx context.Context, name string) (map[string]string, error)

// namespaceProblem says why the namespace may not use kab, or "" when it may.
func namespaceProblem(ctx context.Context, ns string, allow, deny []config.NamespaceMatcher, nsLabels NamespaceLabels, kabNamespace string) (string, error) {
	if len(allow) == 0 && len(deny) == 0 {
		return "", nil
	}
	var labels map[string]string
	if nsLabels != nil {
		var err error
		if labels, err = nsLabels(ctx, ns); err != nil {
			return "", fmt.Errorf("read the labels of namespace %s: %w", ns, err)
		}
	}
	who := fmt.Sprintf("the cluster admin can change namespaces.allow/deny in the kab injector's config (ConfigMap kab-injector-config in namespace %s)", kabNamespace)
	for _, m := range deny {
		if m.Matches(ns, labels) {
			return fmt.Sprintf("namespace %s may not use kab: it matches %q in namespaces.deny; %s", ns, m.Entry, who), nil
		}
	}
	if len(allow) == 0 {
		return "", nil
	}
	for _, m := range allow {
		if m.Matches(ns, labels) {
			return "", nil
		}
	}
	entries := make([]string, len(allow))
	for i, m := range allow {
		entries[i] = fmt.Sprintf("%q", m.Entry)
	}
	return fmt.Sprintf("namespace %s may not use kab: it matches none of namespaces.allow [%s]; %s", ns, strings.Join(entries, ", "), who), nil
}
