// Package cli is the kab-agent command line: no subcommand runs the agent; backup-now and
// status call the running agent's control API (for `kubectl exec -c kab-agent`).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/logging"
	"github.com/boanu/kab/agent/server"
	"github.com/boanu/kab/agent/settings"
	"github.com/boanu/kab/shared"
)

// Main runs kab-agent with args (without the program name) and returns the exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if err := becomeNonDumpable(); err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 1
	}
	if len(args) > 0 {
		switch args[0] {
		case "backup-now":
			return backupNow(args[1:], getenv, stdout, stderr)
		case "status":
			return status(args[1:], getenv, stdout, stderr)
		case "fetch":
			return fetch(args[1:], getenv, stdout, stderr)
		case "drill-copy":
			return drillCopy(args[1:], getenv, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("kab-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kab-agent [flags]          run the agent (settings from KAB_* env; flags override)\n"+
			"       kab-agent backup-now [--wait]  start a backup now in the running agent\n"+
			"       kab-agent status               print the running agent's status\n"+
			"       kab-agent fetch [--list|--to DIR]  restore or list offsite copies (kab-agent fetch -h)\n"+
			"       kab-agent drill-copy           copy a snapshot into a restore drill's scratch folder\n\nFlags:\n")
		fs.PrintDefaults()
	}
	env := settings.Flags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kab-agent: unknown subcommand %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	logger := logging.New(stderr)
	cfg, err := settings.Load(env)
	if err != nil {
		logger.Error("invalid settings", "error", err)
		fmt.Fprintln(stderr, "kab-agent: invalid settings:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runAgent(ctx, cfg, logger); err != nil {
		logger.Error("agent failed", "error", err)
		return 1
	}
	return 0
}

func controlFlags(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("kab-agent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := getenv(shared.EnvControlAddr)
	if addr == "" {
		addr = shared.DefaultControlAddr
	}
	return fs, fs.String("control-addr", addr, "the agent's control API (env "+shared.EnvControlAddr+")")
}

func backupNow(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, addr := controlFlags("backup-now", getenv, stderr)
	wait := fs.Bool("wait", false, "wait for the run to end; exit 0 only if it succeeded")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	client, err := server.NewClient(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 2
	}
	ctx := context.Background()
	code, body, err := client.BackupNow(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 1
	}
	_, _ = stdout.Write(body)
	if code != http.StatusAccepted {
		return 1
	}
	if !*wait {
		return 0
	}
	var started server.IDResponse
	if err := json.Unmarshal(body, &started); err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 1
	}
	run, err := waitFor(ctx, client, started.ID)
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 1
	}
	out, _ := json.MarshalIndent(run, "", "  ")
	fmt.Fprintln(stdout, string(out))
	if run.Result != "success" {
		return 1
	}
	return 0
}

// waitFor polls the status until the run is in the history.
func waitFor(ctx context.Context, client *server.Client, id string) (backup.Run, error) {
	for {
		var st backup.Status
		if err := client.Status(ctx, &st); err != nil {
			return backup.Run{}, err
		}
		for _, r := range st.LastRuns {
			if r.ID == id {
				return r, nil
			}
		}
		if st.Running == nil || st.Running.ID != id {
			if len(st.LastRuns) > 0 && st.LastRuns[0].ID > id {
				return backup.Run{}, errors.New("the run left the status history before it was seen")
			}
		}
		time.Sleep(time.Second)
	}
}

func status(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs, addr := controlFlags("status", getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	client, err := server.NewClient(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 2
	}
	code, body, err := client.StatusRaw(context.Background())
	if err != nil {
		fmt.Fprintln(stderr, "kab-agent:", err)
		return 1
	}
	_, _ = stdout.Write(body)
	if code != http.StatusOK {
		return 1
	}
	return 0
}
