// Package cli is the kubectl-kab command line, built the kubectl way (sample-cli-plugin):
// one Options struct per command with the standard kubeconfig flags and IO streams,
// Complete → Validate → Run, usage printed only for usage mistakes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ExitCodeError ends the program with Code after the command printed what it had to say.
type ExitCodeError struct {
	Code   int
	Reason string
}

func (e *ExitCodeError) Error() string { return e.Reason }

// ExitCode is the process exit code for the error a command returned.
func ExitCode(err error) int {
	var exit *ExitCodeError
	if errors.As(err, &exit) {
		return exit.Code
	}
	if err != nil {
		return 1
	}
	return 0
}

// Message is the one line printed for err ("" when the command already said everything).
func Message(err error) string {
	var exit *ExitCodeError
	if errors.As(err, &exit) && exit.Reason == "" {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Run runs kubectl-kab with args (without the program's name) and returns the exit code, after
// printing a failed command's one-line reason to streams.ErrOut; the binary's main is this.
func Run(ctx context.Context, args []string, streams genericiooptions.IOStreams) int {
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		if msg := Message(err); msg != "" {
			fmt.Fprintln(streams.ErrOut, "kubectl-kab:", msg)
		}
	}
	return ExitCode(err)
}

// NewRoot is `kubectl kab` with its subcommands.
func NewRoot(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-kab",
		Short: "See and drive kab backups: status of every kab pod, backups on demand, snapshot copies",
		Long: `kubectl kab reads and drives the kab agents running beside your apps.

  status   one row per kab pod: last result, last success, next run, size, snapshots, offsite
  backup   start a backup now and follow it
  get      copy a snapshot (or a seed-mode backup) to this machine
  drill    prove a backup restores, in a throwaway pod, without touching the app`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Shell completion comes from cobra's completion command; pod names complete from the
		// kab pods of the current namespace.
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	root.AddCommand(newStatusCmd(flags, streams), newBackupCmd(flags, streams), newGetCmd(flags, streams), newDrillCmd(flags, streams))
	return root
}

// clients builds the API clients from the standard kubeconfig flags.
func clients(flags *genericclioptions.ConfigFlags) (*rest.Config, kubernetes.Interface, string, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, nil, "", fmt.Errorf("kubeconfig namespace: %w", err)
	}
	return cfg, cs, ns, nil
}
