package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/kubectl-kab/fleet"
	"github.com/boanu/kab/kubectl-kab/kube"
	"github.com/boanu/kab/shared"
)

// latest names the newest good backup in both modes.
const latest = "latest"

// GetOptions is `kubectl kab get POD SNAPSHOT -o DIR`.
type GetOptions struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams

	Snapshot, Dir string

	podTarget
}

func newGetCmd(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &GetOptions{flags: flags, streams: streams}
	cmd := &cobra.Command{
		Use:   "get POD SNAPSHOT -o DIR",
		Short: "Copy a snapshot (STAMP or latest) to a local folder, through exec + tar in the app container",
		Example: `  # the newest good backup (snapshot mode: the snapshot latest points to; seed mode: the folder)
  kubectl kab get -n shop db-0 latest -o ./db-backup
  # one snapshot by its stamp (see the snapshot column of kubectl kab status -o yaml)
  kubectl kab get -n shop db-0 20261205T020000.000Z -o ./db-0205`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKabPods(flags),
		RunE:              completeValidateRun(o.Complete, o.Validate, o.Run),
	}
	cmd.Flags().StringVarP(&o.Dir, "output", "o", "", "local folder to copy into (created; must be empty if it exists)")
	_ = cmd.MarkFlagRequired("output")
	_ = cmd.MarkFlagDirname("output")
	return cmd
}

// Complete reads the arguments and the clients.
func (o *GetOptions) Complete(args []string) error {
	o.Snapshot = args[1]
	return o.connect(o.flags, args[0])
}

// Validate checks the snapshot name and the target folder.
func (o *GetOptions) Validate() error {
	if o.Snapshot != latest && !shared.StampPattern.MatchString(o.Snapshot) {
		return fmt.Errorf("snapshot %q: want %q or a stamp such as 20261205T020000.000Z", o.Snapshot, latest)
	}
	entries, err := os.ReadDir(o.Dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-o %s: %w", o.Dir, err)
	case len(entries) > 0:
		return fmt.Errorf("-o %s: the folder is not empty; name a new or empty folder", o.Dir)
	}
	return nil
}

// Run streams `tar -c` of the snapshot out of the app container (the agent image has no tar,
// the app's usually has, as for kubectl cp) and unpacks it locally.
func (o *GetOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	pod, err := kube.KabPod(ctx, o.client, o.namespace, o.Pod)
	if err != nil {
		return err
	}
	app, err := kube.AppContainer(pod)
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", o.namespace, o.Pod, err)
	}
	source := o.source(kube.Mode(pod))
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("-o %s: %w", o.Dir, err)
	}
	r, w := io.Pipe()
	var stderr strings.Builder
	execDone := make(chan error, 1)
	go func() {
		err := kube.Exec(ctx, o.config, o.client, o.namespace, o.Pod, app, []string{"tar", "-c", "-f", "-", "-C", source, "."}, w, &stderr)
		_ = w.CloseWithError(err)
		execDone <- err
	}()
	bar := newProgress(o.streams.ErrOut)
	bytes, files, untarErr := kube.Untar(r, o.Dir, bar.update)
	_, _ = io.Copy(io.Discard, r)
	execErr := <-execDone
	bar.done()
	var exit *kube.ExitError
	switch {
	case errors.As(execErr, &exit) && (exit.Code == 126 || exit.Code == 127):
		return fmt.Errorf("pod %s/%s: container %s has no tar; copy with an image that has one, or from the volume directly", o.namespace, o.Pod, app)
	case errors.As(execErr, &exit):
		return fmt.Errorf("pod %s/%s: tar of %s failed: %s", o.namespace, o.Pod, source, strings.Join(strings.Fields(stderr.String()), " "))
	case execErr != nil:
		return execErr
	case untarErr != nil:
		return untarErr
	}
	fmt.Fprintf(o.streams.Out, "copied %s of %s/%s to %s: %d files, %s\n", o.Snapshot, o.namespace, o.Pod, o.Dir, files, fleet.Bytes(bytes))
	return nil
}

// source is the folder to tar in the app container, where the backup volume is mounted.
func (o *GetOptions) source(mode string) string {
	switch {
	case mode == "seed":
		return shared.BackupDir
	case o.Snapshot == latest:
		// A trailing "/." makes tar -C follow the latest symlink to the snapshot.
		return path.Join(shared.BackupDir, latest) + "/."
	}
	return path.Join(shared.BackupDir, "snapshots", o.Snapshot)
}

// progress prints bytes and files copied on one refreshed line when stderr is a terminal.
type progress struct {
	out      io.Writer
	terminal bool
	mu       sync.Mutex
	last     time.Time
	printed  bool
}

func newProgress(out io.Writer) *progress {
	f, ok := out.(*os.File)
	return &progress{out: out, terminal: ok && isatty.IsTerminal(f.Fd())}
}

func (p *progress) update(bytes int64, files int) {
	if !p.terminal {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.printed = time.Now(), true
	fmt.Fprintf(p.out, "\r%10s  %6d files", fleet.Bytes(bytes), files)
}

func (p *progress) done() {
	if p.printed {
		fmt.Fprintln(p.out)
	}
}
