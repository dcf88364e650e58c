package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/kubectl-kab/drill"
	"github.com/boanu/kab/kubectl-kab/fleet"
	"github.com/boanu/kab/kubectl-kab/kube"
	"github.com/boanu/kab/shared"
)

// drillPoll is how often the drill pod's status is read while it restores.
const drillPoll = 250 * time.Millisecond

// verifyTailLines bounds the verify output kept in the report.
const verifyTailLines = 20

// DrillOptions is `kubectl kab drill POD`.
type DrillOptions struct {
	flags   *genericclioptions.ConfigFlags
	print   *genericclioptions.JSONYamlPrintFlags
	streams genericiooptions.IOStreams

	Snapshot string
	Output   string
	Timeout  time.Duration

	podTarget
}

func newDrillCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DrillOptions{flags: flags, print: genericclioptions.NewJSONYamlPrintFlags(), streams: streams}
	cmd := &cobra.Command{
		Use:   "drill POD [--snapshot STAMP]",
		Short: "Prove a backup restores: restore it into a throwaway pod, wait for the app to be Ready, run backup-verify, delete the pod",
		Long: `drill creates a throwaway pod in the pod's namespace from the app's own spec. The webhook
copies the chosen snapshot (default: the one latest points to; seed mode: the folder) from the
live backup folder, mounted read-only, into a scratch folder; the pod restores from that copy as
the app would, runs no backups and uploads nothing. The app's data volumes are replaced by
empty folders, so the live app and its backups are never touched. drill waits for the restore
and for the app to be Ready, runs the pod's backup-verify script (if any) against the copy,
reports, and deletes the pod — also on failure and on Ctrl-C. Exit 0: the backup restores.`,
		Example: `  # drill the newest good backup
  kubectl kab drill -n shop db-0
  # drill one snapshot (stamps: kubectl kab status -o yaml, or the snapshots/ folder)
  kubectl kab drill -n shop db-0 --snapshot 20261205T020000.000Z
  # in cron, as JSON
  kubectl kab drill -n shop db-0 -o json --timeout 15m`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeKabPods(flags),
		RunE:              completeValidateRun(o.Complete, o.Validate, o.Run),
	}
	cmd.Flags().StringVar(&o.Snapshot, "snapshot", shared.DrillLatest, "the snapshot to drill: latest or a stamp such as 20261205T020000.000Z")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table, json or yaml")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "how long the copy, the restore and the app's start may take together")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads the pod name and the clients.
func (o *DrillOptions) Complete(args []string) error { return o.connect(o.flags, args[0]) }

// Validate checks the flags.
func (o *DrillOptions) Validate() error {
	if err := o.validatePod(); err != nil {
		return err
	}
	if o.Snapshot != shared.DrillLatest && !shared.StampPattern.MatchString(o.Snapshot) {
		return fmt.Errorf("--snapshot %q: want %q or a stamp such as 20261205T020000.000Z", o.Snapshot, shared.DrillLatest)
	}
	switch o.Output {
	case "table", "json", "yaml":
	default:
		return fmt.Errorf("--output %q: want table, json or yaml", o.Output)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration such as 10m", o.Timeout)
	}
	return nil
}

// Run drills: checks, creates the drill pod, follows it, verifies, reports, deletes it.
func (o *DrillOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// Ctrl-C ends the wait, not the program: the drill pod is still deleted.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	live, err := kube.KabPod(ctx, o.client, o.namespace, o.Pod)
	if err != nil {
		return err
	}
	spec, err := shared.Parse(live.Annotations)
	if err != nil {
		return fmt.Errorf("pod %s/%s: its kab annotations do not parse: %w", o.namespace, o.Pod, err)
	}
	mode := kube.Mode(live)
	if mode == fleet.ModeSeed && o.Snapshot != shared.DrillLatest {
		return fmt.Errorf("--snapshot %s: pod %s/%s keeps no snapshots (seed mode: no %s%s); drill latest", o.Snapshot, o.namespace, o.Pod, shared.Prefix, shared.KeyBackupKeep)
	}
	app, err := kube.AppContainer(live)
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", o.namespace, o.Pod, err)
	}
	if err := kube.RequirePodVerbs(ctx, o.client, o.namespace, "create", "get", "delete"); err != nil {
		return err
	}
	if spec.Verify != "" {
		if err := kube.RequireExec(ctx, o.client, o.namespace, ""); err != nil {
			return fmt.Errorf("%w; the drill runs %s%s through exec", err, shared.Prefix, shared.KeyBackupVerify)
		}
	}

	want, scratch := drill.PodFor(live, o.Snapshot)
	result := drill.NewResult(o.namespace, o.Pod, spec.BackupName, mode)
	result.ScratchVolumes = scratch
	start := time.Now()
	created, err := o.client.CoreV1().Pods(o.namespace).Create(ctx, want, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create the drill pod: %w", kube.Explain(err, "create", "pods", o.namespace))
	}
	result.DrillPod = created.Name
	defer o.deletePod(created.Name)
	if indexOf(created.Spec.InitContainers, mutation.DrillCopyContainerName) < 0 {
		return fmt.Errorf("the drill pod %s/%s was not injected as a drill (no %s container): is the kab webhook running, and as new as this plugin?", o.namespace, created.Name, mutation.DrillCopyContainerName)
	}
	o.progress("drill pod %s/%s created", o.namespace, created.Name)

	pod, obs, err := o.follow(ctx, created.Name, app)
	if err != nil {
		return err
	}
	if obs.CopyFailed {
		// The snapshot is not there (or not readable): a wrong request, said in one line.
		return fmt.Errorf("pod %s/%s: %s", o.namespace, o.Pod, obs.Reason)
	}
	o.record(result, pod, start, obs.Stage == drill.StageReady)
	if obs.Stage != drill.StageReady {
		result.Fail(obs.Reason)
		return o.report(result)
	}
	if spec.Verify != "" {
		o.progress("running backup-verify in %s", created.Name)
		o.verify(ctx, result, created.Name, app, append(append([]string{}, spec.BackupShell...), spec.Verify))
	}
	if result.Result == "" {
		result.Result = drill.ResultSuccess
	}
	return o.report(result)
}

// follow polls the drill pod until the app is Ready, the drill failed, or the time is up.
func (o *DrillOptions) follow(ctx context.Context, name, app string) (*corev1.Pod, drill.Observation, error) {
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(drillPoll)
	defer tick.Stop()
	var last drill.Observation
	var pod *corev1.Pod
	for {
		got, err := o.client.CoreV1().Pods(o.namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case ctx.Err() != nil:
			return nil, last, fmt.Errorf("drill of %s/%s interrupted while %s", o.namespace, o.Pod, last.Stage)
		case err != nil:
			return nil, last, kube.Explain(err, "get", "pods", o.namespace)
		}
		pod = got
		obs := drill.Observe(pod, app)
		if obs.Stage != last.Stage {
			o.progress("%s", obs.Stage)
		}
		last = obs
		if obs.Stage == drill.StageReady || obs.Stage == drill.StageFailed {
			return pod, obs, nil
		}
		select {
		case <-ctx.Done():
			return nil, last, fmt.Errorf("drill of %s/%s interrupted while %s", o.namespace, o.Pod, last.Stage)
		case <-deadline.C:
			reason := fmt.Sprintf("timed out after %s while %s", o.Timeout, last.Stage)
			if last.Reason != "" {
				reason += " (" + last.Reason + ")"
			}
			return pod, drill.Observation{Stage: drill.StageFailed, Reason: reason}, nil
		case <-tick.C:
		}
	}
}

// record fills what the drill pod's status tells: the copy and the restore times.
func (o *DrillOptions) record(r *drill.Result, pod *corev1.Pod, start time.Time, ready bool) {
	if stamp, files, bytes, ok := drill.Copied(pod); ok {
		r.Snapshot, r.Files, r.Bytes = stamp, files, bytes
	}
	if d, ok := drill.Ran(pod, mutation.DrillCopyContainerName); ok {
		r.CopySeconds = secondsOf(d)
	}
	if restore := drill.RestoreContainer(pod); restore != "" {
		if d, ok := drill.Ran(pod, restore); ok {
			r.RestoreSeconds = secondsOf(d)
		}
	}
	if ready {
		r.ReadySeconds = secondsOf(time.Since(start))
	}
}

// verify runs backup-verify in the drill pod's app container; the injector gave that container
// the environment the agent gives the script, pointed at the restored copy.
func (o *DrillOptions) verify(ctx context.Context, r *drill.Result, pod, app string, command []string) {
	var out tail
	err := kube.Exec(ctx, o.config, o.client, o.namespace, pod, app, command, &out, &out)
	r.VerifyOutput = out.String()
	var exit *kube.ExitError
	switch {
	case err == nil:
		r.Verify = drill.VerifyPassed
		code := 0
		r.VerifyExitCode = &code
	case errors.As(err, &exit):
		r.Verify = drill.VerifyFailed
		r.VerifyExitCode = &exit.Code
		r.Fail(fmt.Sprintf("backup-verify exited with code %d", exit.Code))
	default:
		r.Verify = drill.VerifyFailed
		r.Fail("backup-verify could not run: " + err.Error())
	}
}

func (o *DrillOptions) report(r *drill.Result) error {
	var err error
	if o.Output == "table" {
		err = drill.WriteTable(o.streams.Out, r)
	} else {
		p, perr := o.print.ToPrinter(o.Output)
		if perr != nil {
			return perr
		}
		err = p.PrintObj(r, o.streams.Out)
	}
	if err != nil {
		return err
	}
	if !r.Succeeded() {
		return &ExitCodeError{Code: 1, Reason: fmt.Sprintf("drill of %s/%s failed: %s", r.Namespace, r.Pod, r.Reason)}
	}
	return nil
}

// deletePod removes the drill pod whatever happened, with a context of its own: the command's
// may be cancelled already (Ctrl-C).
func (o *DrillOptions) deletePod(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	grace := int64(1)
	err := o.client.CoreV1().Pods(o.namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if err != nil {
		fmt.Fprintf(o.streams.ErrOut, "kubectl-kab: the drill pod %s/%s is left behind, delete it yourself: %s\n", o.namespace, name, kube.Explain(err, "delete", "pods", o.namespace))
		return
	}
	o.progress("drill pod %s/%s deleted", o.namespace, name)
}

// progress tells a person at a terminal what the drill is waiting for; scripts get only the
// report.
func (o *DrillOptions) progress(format string, args ...any) {
	f, ok := o.streams.ErrOut.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return
	}
	fmt.Fprintf(f, "drill: "+format+"\n", args...)
}

func secondsOf(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

func indexOf(containers []corev1.Container, name string) int {
	for i := range containers {
		if containers[i].Name == name {
			return i
		}
	}
	return -1
}

// tail keeps the end of what stdout and stderr (written concurrently) carried.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 16 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailBytes {
		t.buf = t.buf[len(t.buf)-tailBytes:]
	}
	return len(p), nil
}

// String is the last verifyTailLines lines.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if n := len(lines); n > verifyTailLines {
		lines = lines[n-verifyTailLines:]
	}
	return strings.Join(lines, "\n")
}
