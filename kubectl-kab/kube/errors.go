package kube

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrForbidden marks a request RBAC refused.
var ErrForbidden = errors.New("forbidden")

// Explain turns an API error into one line: a refusal names the verb and the resource to ask
// for, a missing object says what was looked for; anything else keeps the server's words.
func Explain(err error, verb, resource, namespace string) error {
	if err == nil {
		return nil
	}
	where := "in namespace " + namespace
	if namespace == "" {
		where = "in all namespaces"
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: you may not %s %s %s (RBAC: grant verb %q on resource %q): %s",
			ErrForbidden, verb, resource, where, verb, resource, firstLine(err.Error()))
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %s: %s", resource, where, firstLine(err.Error()))
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server does not accept your credentials (check your kubeconfig): %s", firstLine(err.Error()))
	}
	return fmt.Errorf("%s %s %s: %s", verb, resource, where, firstLine(err.Error()))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
