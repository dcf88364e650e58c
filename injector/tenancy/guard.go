package tenancy

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/shared"
)

// Guard is the tenancy check the webhook runs on every pod it would inject.
type Guard struct {
	allow, deny  []config.NamespaceMatcher
	layout       config.Layout
	labels       NamespaceLabels
	claims       Claims
	kabNamespace string
}

// New builds the guard. labels may be nil when no allow/deny entry is a selector.
func New(cfg *config.Config, claims Claims, labels NamespaceLabels) *Guard {
	allow, deny := cfg.Namespaces.Matchers()
	return &Guard{allow: allow, deny: deny, layout: cfg.Layout, labels: labels, claims: claims, kabNamespace: claims.Namespace}
}

// Admit returns a *mutation.DeniedError when the pod's namespace may not use kab or its
// backup-name belongs to another namespace, any other error when the check itself failed.
// The pod's namespace must be set (the webhook copies it from the request).
func (g *Guard) Admit(ctx context.Context, pod *corev1.Pod, dryRun bool) error {
	ns := pod.Namespace
	problem, err := namespaceProblem(ctx, ns, g.allow, g.deny, g.labels, g.kabNamespace)
	if err != nil {
		return err
	}
	if problem != "" {
		return &mutation.DeniedError{Problems: []error{errors.New(problem)}}
	}
	if g.layout != config.LayoutFlat {
		return nil
	}
	spec, err := shared.Parse(pod.Annotations)
	if err != nil {
		return fmt.Errorf("tenancy: annotations the mutation accepted do not parse: %w", err)
	}
	// A restore drill reads a backup-name's folder and writes nothing there: it must own the
	// name like any pod, but never claims a free one (it checks as a dry run would).
	owner, err := g.claims.owner(ctx, spec.BackupName, ns, dryRun || spec.Drill != "")
	if err != nil {
		return err
	}
	if owner != ns {
		return &mutation.DeniedError{Problems: []error{fmt.Errorf(
			"%s%s: %q belongs to namespace %s (flat layout: a backup-name is owned by the first namespace that uses it); choose another backup-name, or, if %s no longer uses it, release it with `kubectl -n %s delete configmap %s`",
			shared.Prefix, shared.KeyBackupName, spec.BackupName, owner, owner, g.kabNamespace, ClaimName(spec.BackupName))}}
	}
	return nil
}
