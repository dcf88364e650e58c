package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/logging"
	"github.com/boanu/kab/agent/offsite"
	"github.com/boanu/kab/shared"
)

// fetchBackoff spaces the tries at an unreachable endpoint: about two minutes in all, then the
// init container fails and the kubelet restarts it with its own backoff (the pod waits in Init;
// the app never starts empty because of a network blip).
var fetchBackoff = offsite.Backoff{First: 2 * time.Second, Max: 30 * time.Second}

// fetch is `kab-agent fetch`: in the kab-fetch init container it restores the newest offsite
// copy into an empty backup folder; with --list or --to it serves a person on a laptop.
func fetch(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kab-agent fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	secretDir := fs.String("secret-dir", offsite.MountDir, "the offsite Secret's files (endpoint, bucket, accessKeyID, secretAccessKey, identity, …)")
	secret := fs.String("secret", envOr(shared.EnvName(shared.KeyOffsite), "offsite"), "the Secret's name, for messages (env "+shared.EnvName(shared.KeyOffsite)+")")
	namespace := fs.String("namespace", getenv(shared.EnvPodNamespace), "the pod's namespace: the bucket folder is <prefix>/<namespace>/<backup-name>/ (env "+shared.EnvPodNamespace+")")
	backupName := fs.String("backup-name", envOr(shared.EnvName(shared.KeyBackupName), "default"), "the backup name (env "+shared.EnvName(shared.KeyBackupName)+")")
	backupDir := fs.String("backup-dir", envOr(shared.EnvBackupDir, shared.BackupDir), "the backup folder to restore into when it holds no backup (env "+shared.EnvBackupDir+")")
	keep := fs.String("backup-keep", getenv(shared.EnvName(shared.KeyBackupKeep)), "set: snapshot mode (snapshots/<stamp>/ + latest); empty: seed mode (env "+shared.EnvName(shared.KeyBackupKeep)+")")
	list := fs.Bool("list", false, "list the copies in the bucket and exit")
	to := fs.String("to", "", "unpack a copy into this new or empty folder (as plain files) instead of the backup folder")
	stamp := fs.String("stamp", "", "with --to: the copy to fetch (default: the newest whose manifest checks out)")
	tries := fs.Int("tries", 7, "tries at an unreachable endpoint before giving up")
	appUID := fs.String("app-uid", envOr(shared.EnvAppUID, "0"), "the app's uid: the backup folder is handed to it and restored files belong to it (env "+shared.EnvAppUID+")")
	appGID := fs.String("app-gid", envOr(shared.EnvAppGID, "0"), "the app's gid (env "+shared.EnvAppGID+")")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kab-agent fetch [flags]            restore the newest offsite copy into an empty backup folder\n"+
			"       kab-agent fetch --list                list the offsite copies\n"+
			"       kab-agent fetch --to DIR [--stamp S]  unpack a copy into DIR\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kab-agent fetch: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *stamp != "" && *to == "" {
		fmt.Fprintln(stderr, "kab-agent fetch: --stamp needs --to DIR")
		return 2
	}
	app, err := appIDs(*appUID, *appGID)
	if err != nil {
		fmt.Fprintf(stderr, "kab-agent fetch: %v\n", err)
		return 2
	}
	logger := logging.New(stderr)
	cfg, err := offsite.Load(*secretDir, *secret, !*list)
	if err != nil {
		logger.Error("offsite settings", "error", err)
		return 2
	}
	store, err := offsite.Open(cfg, *namespace, *backupName)
	if err != nil {
		logger.Error("offsite settings", "error", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	retry := func(what string, fn func() error) error {
		return offsite.Retry(ctx, *tries, fetchBackoff, func(err error, wait time.Duration) {
			logger.Warn("offsite endpoint unreachable; retrying", "what", what, "endpoint", cfg.URL(), "retry_in", wait.String(), "error", err)
		}, fn)
	}
	switch {
	case *list:
		err = listCopies(ctx, store, retry, stdout)
	case *to != "":
		err = fetchTo(ctx, store, cfg, retry, *to, *stamp, logger)
	default:
		err = restoreFolder(ctx, store, cfg, retry, *backupDir, *keep != "", app, logger)
	}
	if err != nil {
		if offsite.IsUnreachable(err) {
			logger.Error("offsite endpoint unreachable; giving up", "endpoint", cfg.URL(), "tries", *tries, "where", store.Where(), "error", err)
		} else {
			// A local failure or an answer about the copy: retrying would not change it.
			logger.Error("offsite fetch failed", "where", store.Where(), "error", err)
		}
		return 1
	}
	return 0
}

type retryFunc func(what string, fn func() error) error

func listCopies(ctx context.Context, store *offsite.Store, retry retryFunc, stdout io.Writer) error {
	var copies []offsite.Copy
	if err := retry("list", func() (err error) { copies, err = store.List(ctx); return err }); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAMP\tBYTES\tCOMPLETE")
	for _, c := range copies {
		fmt.Fprintf(tw, "%s\t%d\t%t\n", c.Stamp, c.DataBytes, c.HasData && c.HasManifest)
	}
	return tw.Flush()
}

// newest finds the copy to restore; ok is false when the bucket holds none.
func newest(ctx context.Context, store *offsite.Store, retry retryFunc, logger *slog.Logger) (m offsite.Manifest, ok bool, err error) {
	err = retry("find the newest copy", func() error {
		var skipped []error
		m, ok, skipped, err = store.Newest(ctx)
		for _, s := range skipped {
			logger.Warn("offsite copy passed over", "reason", s)
		}
		return err
	})
	return m, ok, err
}

// restoreFolder is the kab-fetch init container: restore only into a folder without a backup.
// It runs as root: it first hands a root-owned empty folder (what the kubelet creates for a new
// subPath) to the app, then does everything else with the app's fs ids, so it sees the folder
// as the app does and every file it unpacks belongs to the app.
func restoreFolder(ctx context.Context, store *offsite.Store, cfg *offsite.Config, retry retryFunc, dir string, snapshotMode bool, app fsuser.IDs, logger *slog.Logger) error {
	if err := fsuser.HandOver(dir, app); err != nil {
		return err
	}
	var has bool
	if err := asApp(app, func() (err error) { has, err = offsite.HasBackup(dir, snapshotMode); return err }); err != nil {
		return fmt.Errorf("look into the backup folder %s as uid %d gid %d: %w", dir, app.UID, app.GID, err)
	}
	if has {
		logger.Info("the backup folder holds a backup; nothing to fetch", "backup_dir", dir)
		return nil
	}
	m, ok, err := newest(ctx, store, retry, logger)
	if err != nil {
		return err
	}
	if !ok {
		logger.Info("no offsite copy yet (a first deploy?); carrying on with an empty folder", "where", store.Where())
		return nil
	}
	err = retry("download "+m.Object, func() error {
		start := time.Now()
		var files int
		err := asApp(app, func() (err error) {
			files, err = store.Restore(ctx, m, cfg.Identities, dir, snapshotMode)
			return err
		})
		if err == nil {
			logger.Info("restored the offsite copy", "stamp", m.Stamp, "files", files, "tar_bytes", m.TarBytes,
				"backup_dir", dir, "uid", app.UID, "gid", app.GID, "duration_seconds", time.Since(start).Seconds())
		}
		return err
	})
	if offsite.IsLocal(err) {
		return fmt.Errorf("unpack %s into the backup folder %s as uid %d gid %d (not retried: the folder must be writable by the app and hold %d bytes): %w",
			m.Object, dir, app.UID, app.GID, m.TarBytes, err)
	}
	return err
}

// asApp runs fn with the app's fs ids; as is when they are already ours (a person running
// `kab-agent fetch` as themselves needs no CAP_SETUID).
func asApp(app fsuser.IDs, fn func() error) error {
	if int(app.UID) == os.Geteuid() && int(app.GID) == os.Getegid() {
		return fn()
	}
	return fsuser.Do(app, fn)
}

// appIDs parses the app's uid and gid (decimal, 0 … 2^32-2; -1 is the kernel's "no change").
func appIDs(uid, gid string) (fsuser.IDs, error) {
	u, err := strconv.ParseUint(uid, 10, 32)
	if err != nil || u == math.MaxUint32 {
		return fsuser.IDs{}, fmt.Errorf("--app-uid (env %s) is %q; want the app's numeric uid, e.g. 1000", shared.EnvAppUID, uid)
	}
	g, err := strconv.ParseUint(gid, 10, 32)
	if err != nil || g == math.MaxUint32 {
		return fsuser.IDs{}, fmt.Errorf("--app-gid (env %s) is %q; want the app's numeric gid, e.g. 1000", shared.EnvAppGID, gid)
	}
	return fsuser.IDs{UID: uint32(u), GID: uint32(g)}, nil
}

// fetchTo unpacks a copy into a new or empty folder, as plain files.
func fetchTo(ctx context.Context, store *offsite.Store, cfg *offsite.Config, retry retryFunc, dir, stamp string, logger *slog.Logger) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("--to %s is not empty; give a new or empty folder", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var m offsite.Manifest
	if stamp != "" {
		if err := retry("read the manifest of "+stamp, func() (err error) { m, err = store.Manifest(ctx, stamp); return err }); err != nil {
			return err
		}
	} else {
		var ok bool
		var err error
		if m, ok, err = newest(ctx, store, retry, logger); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no offsite copy in %s", store.Where())
		}
	}
	err := retry("download "+m.Object, func() error {
		files, err := store.Restore(ctx, m, cfg.Identities, dir, false)
		if err == nil {
			logger.Info("fetched the offsite copy", "stamp", m.Stamp, "files", files, "to", dir)
		}
		return err
	})
	if offsite.IsLocal(err) {
		return fmt.Errorf("unpack %s into %s (not retried: the folder must be writable and hold %d bytes): %w", m.Object, dir, m.TarBytes, err)
	}
	return err
}
