package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/kubectl-kab/agentstatus"
	"github.com/boanu/kab/kubectl-kab/fleet"
	"github.com/boanu/kab/kubectl-kab/kube"
)

// agentBinary is the agent's path in its image (Dockerfile.agent).
const agentBinary = "/kab-agent"

// BackupOptions is `kubectl kab backup POD`.
type BackupOptions struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams

	Wait bool

	podTarget
}

func newBackupCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &BackupOptions{flags: flags, streams: streams}
	cmd := &cobra.Command{
		Use:   "backup POD",
		Short: "Start a backup now (exec into kab-agent); with --wait follow its log and exit with its result",
		Example: `  # start one and return
  kubectl kab backup -n shop db-0
  # start one, follow it, exit 0 only if it succeeded
  kubectl kab backup -n shop db-0 --wait`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeKabPods(flags),
		RunE:              completeValidateRun(o.Complete, o.Validate, o.Run),
	}
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "follow the run's log and exit 0 only if it succeeded")
	return cmd
}

// Complete reads the pod name and the clients.
func (o *BackupOptions) Complete(args []string) error { return o.connect(o.flags, args[0]) }

// Validate checks the pod name is a name.
func (o *BackupOptions) Validate() error { return o.validatePod() }

// Run asks the agent for a run through `kab-agent backup-now` in the kab-agent container.
func (o *BackupOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	pod, err := kube.KabPod(ctx, o.client, o.namespace, o.Pod)
	if err != nil {
		return err
	}
	if err := kube.Ready(pod); err != nil {
		return fmt.Errorf("pod %s/%s: %w", o.namespace, o.Pod, err)
	}
	command := []string{agentBinary, "backup-now"}
	if o.Wait {
		command = append(command, "--wait")
	}
	since := metav1.NewTime(time.Now().Add(-time.Second))
	stdoutR, stdoutW := io.Pipe()
	var stderr strings.Builder
	execDone := make(chan error, 1)
	go func() {
		err := kube.Exec(ctx, o.config, o.client, o.namespace, o.Pod, mutation.AgentContainerName, command, stdoutW, &stderr)
		_ = stdoutW.CloseWithError(io.EOF)
		execDone <- err
	}()

	// backup-now prints the started run's id, then (with --wait) the finished run.
	dec := json.NewDecoder(stdoutR)
	var started struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	decodeErr := dec.Decode(&started)
	if decodeErr != nil || started.ID == "" || started.Error != "" {
		_, _ = io.Copy(io.Discard, stdoutR)
		execErr := <-execDone
		return backupRefused(o.namespace, o.Pod, started.ID, started.Error, execErr, decodeErr, stderr.String())
	}
	fmt.Fprintf(o.streams.Out, "backup %s started in %s/%s\n", started.ID, o.namespace, o.Pod)
	if !o.Wait {
		_, _ = io.Copy(io.Discard, stdoutR)
		return backupExecError(<-execDone, stderr.String())
	}

	logCtx, stopLogs := context.WithCancel(ctx)
	var logs sync.WaitGroup
	logs.Add(1)
	go func() {
		defer logs.Done()
		if err := kube.FollowRun(logCtx, o.client, o.namespace, o.Pod, since, started.ID, o.streams.Out); err != nil {
			fmt.Fprintf(o.streams.ErrOut, "kubectl-kab: not following the log: %s\n", err)
		}
	}()
	var run agentstatus.Run
	runErr := dec.Decode(&run)
	_, _ = io.Copy(io.Discard, stdoutR)
	execErr := <-execDone
	// Give the log a moment to deliver the run's last lines, which the agent writes as the
	// run ends, before the summary.
	time.Sleep(time.Second)
	stopLogs()
	logs.Wait()
	if runErr != nil {
		return errors.Join(fmt.Errorf("backup %s in %s/%s: the agent's answer: %w", started.ID, o.namespace, o.Pod, runErr), backupExecError(execErr, stderr.String()))
	}
	fmt.Fprintln(o.streams.Out, summary(run))
	if run.Result != agentstatus.ResultSuccess {
		return &ExitCodeError{Code: 1}
	}
	return nil
}

func summary(run agentstatus.Run) string {
	s := fmt.Sprintf("backup %s: %s in %.1fs", run.ID, run.Result, run.DurationSeconds)
	if run.Files != nil && run.SizeBytes != nil {
		s += fmt.Sprintf(", %d files, %s", *run.Files, fleet.Bytes(*run.SizeBytes))
	}
	if run.Snapshot != "" {
		s += ", snapshot " + run.Snapshot
	}
	if run.Error != "" {
		s += ": " + run.Error
	}
	return s
}

// backupRefused explains why no run started: busy (409), stopping (503), or no agent answer.
func backupRefused(namespace, pod, runningID, agentErr string, execErr, decodeErr error, stderr string) error {
	switch {
	case agentErr != "" && runningID != "":
		return fmt.Errorf("pod %s/%s: a backup is already running (%s)", namespace, pod, runningID)
	case agentErr != "":
		return fmt.Errorf("pod %s/%s: the agent refused: %s", namespace, pod, agentErr)
	case execErr != nil:
		return backupExecError(execErr, stderr)
	}
	return fmt.Errorf("pod %s/%s: the agent's answer is not a run id: %v %s", namespace, pod, decodeErr, strings.TrimSpace(stderr))
}

func backupExecError(err error, stderr string) error {
	var exit *kube.ExitError
	if errors.As(err, &exit) {
		if msg := strings.TrimSpace(stderr); msg != "" {
			return fmt.Errorf("%s: %s", exit, msg)
		}
	}
	return err
}
