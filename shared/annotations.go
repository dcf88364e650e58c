package shared

import (
	"time"
)

// Prefix is the annotation prefix kab owns. Every key below lives under it.
const Prefix = "kab.boa.nu/"

// Annotation keys, without the prefix.
const (
	KeyBackupName       = "backup-name"
	KeyContainerName    = "container-name"
	KeyBackupSchedule   = "backup-schedule"
	KeyBackupExecShell  = "backup-exec-shell"
	KeyBackupExec       = "backup-exec"
	KeyRestoreExecShell = "restore-exec-shell"
	KeyRestoreExec      = "restore-exec"
	KeyBackupTimeout    = "backup-timeout"
	KeyBackupKeep       = "backup-keep"
	KeyBackupVerify     = "backup-verify"
	KeyBackupAllowEmpty = "backup-allow-empty"
	KeyOffsite          = "offsite"
	KeyDrill            = "drill"

	// KeyStatus is written by the injector, never by users; it marks an injected pod.
	KeyStatus = "status"
)

// StatusInjected is the value of the status annotation on an injected pod.
const StatusInjected = "injected"

// InjectedLabel is set to "true" on injected pods so a PodMonitor can select them.
const InjectedLabel = Prefix + "injected"

// Annotation describes one user-facing annotation: the single source for parsing, defaults,
// the agent's environment and the README's table.
type Annotation struct {
	Key     string // without Prefix
	Default string // "" means no default: the feature is off when unset
	Doc     string // one line, for the README
	// ToAgent marks the keys the agent needs; they travel as KAB_* env (see EnvName).
	ToAgent bool
	// Extension marks keys kab added beyond the original seed contract.
	Extension bool
	// apply parses a non-empty value into the spec, or says why it is invalid and what would be valid.
	apply func(spec *Spec, value string) error
}

// Limits pinned by the contract.
const (
	MaxBackupTimeout = 168 * time.Hour
	MinBackupKeep    = 1
	MaxBackupKeep    = 1000
)

// Annotations is the table. Order is the order of the README table.
var Annotations = []Annotation{
	{
		Key: KeyBackupName, Default: "default", ToAgent: true,
		Doc:   "subfolder of the backup volume; `/kab-backup` is that subfolder. One path segment: `[A-Za-z0-9][A-Za-z0-9._-]{0,62}`",
		apply: func(s *Spec, v string) (err error) { s.BackupName, err = parseBackupName(v); return err },
	},
	{
		Key:   KeyContainerName,
		Doc:   "the app container: backups run in it and the restore container is cloned from it. Required when the pod has several containers",
		apply: func(s *Spec, v string) error { s.ContainerName = v; return nil },
	},
	{
		Key: KeyBackupSchedule, Default: "3600", ToAgent: true,
		Doc:   "seconds between backups (`100`), a Go duration (`15m`), `@every 1h`, 5-field cron (`0 3 * * *`), `@hourly`/`@daily`/`@weekly`/…, optionally prefixed by `CRON_TZ=Area/City `",
		apply: func(s *Spec, v string) (err error) { s.Schedule, err = ParseSchedule(v); return err },
	},
	{
		Key: KeyBackupExecShell, Default: "/bin/sh -c", ToAgent: true,
		Doc:   "split on white space; the backup script is appended as the last argument",
		apply: func(s *Spec, v string) (err error) { s.BackupShell, err = parseShell(v); return err },
	},
	{
		Key: KeyBackupExec, ToAgent: true,
		Doc:   "the backup script, run inside the app container (its binaries, volumes, env, user) on the schedule",
		apply: func(s *Spec, v string) error { s.BackupExec = v; return nil },
	},
	{
		Key: KeyRestoreExecShell, Default: "/bin/sh -c",
		Doc:   "as backup-exec-shell, for restore-exec",
		apply: func(s *Spec, v string) (err error) { s.RestoreShell, err = parseShell(v); return err },
	},
	{
		Key:   KeyRestoreExec,
		Doc:   "the restore script, run in the restore init container before the app starts; it decides itself whether to restore",
		apply: func(s *Spec, v string) error { s.RestoreExec = v; return nil },
	},
	{
		Key: KeyBackupTimeout, Default: "1h", ToAgent: true, Extension: true,
		Doc:   "Go duration, > 0 and ≤ 168h; a run still going after it is killed (whole process group) and counted as failed",
		apply: func(s *Spec, v string) (err error) { s.Timeout, err = parseTimeout(v); return err },
	},
	{
		Key: KeyBackupKeep, ToAgent: true, Extension: true,
		Doc:   "snapshot mode: each run writes `snapshots/<stamp>/`, `latest` links the newest good one. An integer 1…1000 keeps the newest N; a policy `last=3 hourly=24 daily=7 weekly=4 monthly=12 yearly=3` (any subset, each 1…1000) keeps what any rule keeps. Unset: the script writes straight into /kab-backup and kab deletes nothing",
		apply: func(s *Spec, v string) (err error) { s.Keep, err = parseKeep(v); return err },
	},
	{
		Key: KeyBackupVerify, ToAgent: true, Extension: true,
		Doc:   "a script run after the backup command exits 0, in the same app view and shell, with `KAB_BACKUP_DIR` at what the run wrote; non-zero → `verify_failed`, the snapshot is not promoted",
		apply: func(s *Spec, v string) error { s.Verify = v; return nil },
	},
	{
		Key: KeyBackupAllowEmpty, Default: "false", ToAgent: true, Extension: true,
		Doc:   "`true`: a run that wrote no file with at least one byte is still a success (incremental copies that may change nothing); otherwise it ends `empty`",
		apply: func(s *Spec, v string) (err error) { s.AllowEmpty, err = parseBool(v); return err },
	},
	{
		Key: KeyOffsite, ToAgent: true, Extension: true,
		Doc:   "name of a Secret in the pod's namespace with S3 settings and age recipients: encrypted copies offsite after each good run, and restore from them when the folder is empty",
		apply: func(s *Spec, v string) (err error) { s.Offsite, err = parseSecretName(v); return err },
	},
	{
		Key: KeyDrill, Extension: true,
		Doc:   "set by `kubectl kab drill` on its throwaway pod, not by users: `latest` or a snapshot stamp. The pod restores from a scratch copy of that backup (the live folder is mounted read-only, only to copy from), runs no backups, uploads nothing and claims no backup-name",
		apply: func(s *Spec, v string) (err error) { s.Drill, err = parseDrill(v); return err },
	},
}

// Lookup returns the table entry for a key without prefix.
func Lookup(key string) (Annotation, bool) {
	for _, a := range Annotations {
		if a.Key == key {
			return a, true
		}
	}
	return Annotation{}, false
}
