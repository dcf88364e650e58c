package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/target"
	"github.com/boanu/kab/shared"
)

// ErrFailed is wrapped when the verification script ran and said no (or could not run at all:
// a missing shell, a script that is not executable). Either way the backup is not trusted.
var ErrFailed = errors.New("the backup-verify script did not pass")

// Request is one verification of a run's output.
type Request struct {
	Target target.Process
	Shell  []string // backup-exec-shell
	Script string   // backup-verify
	Dir    string   // KAB_BACKUP_DIR: what the run wrote, as the app sees it
	RunID  string
	Env    []string // the run's other variables (backup name, pod)
	Logger *slog.Logger
	Tail   *appexec.Tail
}

// Run runs the script in the app's view, as the app, with the run's context (and so its
// timeout). It returns nil when the script exited 0, an error wrapping ErrFailed when it ran
// and failed or could not start, and the context's error when the run was cut short.
func Run(ctx context.Context, req Request) (exitCode int, err error) {
	args := append(append([]string{}, req.Shell...), req.Script)
	env := append(append([]string{}, req.Env...),
		shared.EnvBackupDir+"="+req.Dir,
		shared.EnvRunID+"="+req.RunID,
	)
	cmd, err := appexec.Start(ctx, appexec.Request{Target: req.Target, Args: args, Env: env, Logger: req.Logger, Tail: req.Tail})
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, target.ErrGone) {
			return -1, err
		}
		return -1, fmt.Errorf("%w: it could not start (backup-exec-shell %q): %v", ErrFailed, req.Shell, err)
	}
	defer cmd.Close()
	exitCode, err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return exitCode, ctx.Err()
	case err != nil:
		return exitCode, err
	case exitCode == 126 || exitCode == 127:
		return exitCode, fmt.Errorf("%w: exit code %d, the shell could not run it (not executable, or not found?)", ErrFailed, exitCode)
	case exitCode != 0:
		return exitCode, fmt.Errorf("%w: exit code %d", ErrFailed, exitCode)
	}
	return 0, nil
}
