package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// podTarget is what a one-pod command (backup, get, drill) holds once completed: the pod's
// name, its namespace (-n or the kubeconfig's), the clientset, and the REST config that exec
// needs besides the clientset.
type podTarget struct {
	Pod string

	config    *rest.Config
	client    kubernetes.Interface
	namespace string
}

// connect names the pod and builds the clients from the standard kubeconfig flags.
func (t *podTarget) connect(flags *genericclioptions.ConfigFlags, pod string) error {
	t.Pod = pod
	cfg, cs, ns, err := clients(flags)
	if err != nil {
		return err
	}
	t.config, t.client, t.namespace = cfg, cs, ns
	return nil
}

// validatePod refuses "namespace/name" and empty names: the namespace comes from -n, as in
// kubectl exec.
func (t *podTarget) validatePod() error {
	if t.Pod == "" || strings.Contains(t.Pod, "/") {
		return fmt.Errorf("pod %q: want a pod name; pick the namespace with -n", t.Pod)
	}
	return nil
}

// completeValidateRun is kubectl's order for a command's options: Complete, Validate, Run; the
// first error ends the command.
func completeValidateRun(complete func(args []string) error, validate func() error, run func(context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := complete(args); err != nil {
			return err
		}
		if err := validate(); err != nil {
			return err
		}
		return run(cmd.Context())
	}
}
