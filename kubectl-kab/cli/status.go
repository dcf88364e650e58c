package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/kubectl-kab/fleet"
	"github.com/boanu/kab/kubectl-kab/kube"
)

// StatusOptions is `kubectl kab status`.
type StatusOptions struct {
	flags   *genericclioptions.ConfigFlags
	print   *genericclioptions.JSONYamlPrintFlags
	streams genericiooptions.IOStreams

	AllNamespaces bool
	Selector      string
	Output        string
	Timeout       time.Duration
	Parallel      int

	client    kubernetes.Interface
	namespace string
	now       func() time.Time
}

func newStatusCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &StatusOptions{flags: flags, print: genericclioptions.NewJSONYamlPrintFlags(), streams: streams, now: time.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One row per kab pod; exit code 1 when any backup is failing, stale or unknown",
		Example: `  # the kab pods of the current namespace
  kubectl kab status
  # every namespace, as JSON for a script
  kubectl kab status -A -o json
  # in cron: mail when something is wrong
  kubectl kab status -A >/dev/null || kubectl kab status -A | mail -s "kab" me`,
		Args: cobra.NoArgs,
		RunE: completeValidateRun(func([]string) error { return o.Complete() }, o.Validate, o.Run),
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list the kab pods of every namespace")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "label selector the pods must also match (e.g. app=db)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Second, "how long to wait for each agent's answer")
	cmd.Flags().IntVar(&o.Parallel, "parallel", 16, "agents asked at the same time")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete fills the client and the namespace from the kubeconfig flags.
func (o *StatusOptions) Complete() error {
	_, cs, ns, err := clients(o.flags)
	if err != nil {
		return err
	}
	o.client, o.namespace = cs, ns
	if o.AllNamespaces {
		o.namespace = ""
	}
	return nil
}

// Validate checks the flags.
func (o *StatusOptions) Validate() error {
	switch o.Output {
	case "table", "json", "yaml":
	default:
		return fmt.Errorf("--output %q: want table, json or yaml", o.Output)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration such as 5s", o.Timeout)
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel %d: want at least 1", o.Parallel)
	}
	return nil
}

// Run prints the rows and turns problems into exit code 1.
func (o *StatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	pods, err := kube.KabPods(ctx, o.client, o.namespace, o.Selector)
	if err != nil {
		return err
	}
	targets, byTarget := targetsOf(pods)
	observations := fleet.Collect(ctx, targets, kube.ProxyAsker(o.client, byTarget), o.Parallel, o.Timeout)
	now := o.now()
	rows := make([]fleet.Row, 0, len(observations))
	for _, obs := range observations {
		rows = append(rows, fleet.Evaluate(obs, now))
	}
	if err := o.write(rows, now); err != nil {
		return err
	}
	if n := fleet.Problems(rows); n > 0 {
		return &ExitCodeError{Code: 1, Reason: fmt.Sprintf("%d of %d backups need attention", n, len(rows))}
	}
	return nil
}

func (o *StatusOptions) write(rows []fleet.Row, now time.Time) error {
	if o.Output != "table" {
		printer, err := o.print.ToPrinter(o.Output)
		if err != nil {
			return err
		}
		return printer.PrintObj(fleet.NewList(rows), o.streams.Out)
	}
	if len(rows) == 0 {
		where := "namespace " + o.namespace
		if o.namespace == "" {
			where = "any namespace"
		}
		_, err := fmt.Fprintf(o.streams.ErrOut, "No kab pods found in %s.\n", where)
		return err
	}
	return fleet.WriteTable(o.streams.Out, rows, o.AllNamespaces, now)
}

func targetsOf(pods []corev1.Pod) ([]fleet.Target, map[fleet.Target]*corev1.Pod) {
	targets := make([]fleet.Target, 0, len(pods))
	byTarget := make(map[fleet.Target]*corev1.Pod, len(pods))
	for i := range pods {
		t := fleet.Target{Namespace: pods[i].Namespace, Pod: pods[i].Name, Mode: kube.Mode(&pods[i])}
		targets = append(targets, t)
		byTarget[t] = &pods[i]
	}
	return targets, byTarget
}
