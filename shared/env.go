package shared

import (
	"strings"
)

// Environment variables the injector sets on the agent besides the annotation-derived ones.
const (
	EnvContainer    = "KAB_CONTAINER"     // marker value: the app container's name
	EnvBackupDir    = "KAB_BACKUP_DIR"    // where the backup volume is mounted
	EnvMetricsAddr  = "KAB_METRICS_ADDR"  // /metrics and /healthz
	EnvControlAddr  = "KAB_CONTROL_ADDR"  // POST /backup, GET /status (loopback only)
	EnvPodName      = "KAB_POD_NAME"      // downward API
	EnvPodNamespace = "KAB_POD_NAMESPACE" // downward API
	EnvRunID        = "KAB_RUN_ID"        // set on each backup command
	EnvRestoreFrom  = "KAB_RESTORE_FROM"  // set on the restore container
	EnvAppUID       = "KAB_APP_UID"       // kab-fetch: the app's uid, where the pod says it (else root)
	EnvAppGID       = "KAB_APP_GID"       // kab-fetch: the app's gid, where the pod says it (else root)
)

// Defaults for the agent's own settings.
const (
	BackupDir          = "/kab-backup"
	DefaultAgentPort   = 9779
	DefaultControlAddr = "127.0.0.1:9780"
)

// EnvVar is one name=value pair; kept free of Kubernetes types so the agent binary stays small.
type EnvVar struct {
	Name  string
	Value string
}

// EnvName is the agent variable for an annotation key: backup-exec-shell → KAB_BACKUP_EXEC_SHELL.
func EnvName(key string) string {
	if i, ok := keyIndex[key]; ok {
		return envNames[i]
	}
	return envName(key)
}

func envName(key string) string {
	return "KAB_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// AgentEnv is the spec as the agent's KAB_* variables: one per agent key, holding the value as
// the user wrote it or its default (empty KAB_BACKUP_KEEP means seed mode).
func (s *Spec) AgentEnv() []EnvVar {
	env := make([]EnvVar, 0, agentKeyCount)
	for i, a := range Annotations {
		if a.ToAgent {
			env = append(env, EnvVar{Name: envNames[i], Value: s.value(i)})
		}
	}
	return env
}

// SpecFromEnv decodes the agent's KAB_* variables with the same parsers the injector used, so
// the agent never re-implements a rule. Errors name the variable. An empty optional variable
// (KAB_BACKUP_KEEP="") means unset; KAB_BACKUP_EXEC is required.
func SpecFromEnv(getenv func(string) string) (*Spec, error) {
	spec, err := build(func(i int) (string, bool) {
		v := getenv(envNames[i])
		return v, v != ""
	}, func(i int) string { return "variable " + envNames[i] }, true)
	if err != nil {
		return nil, err
	}
	if spec.BackupExec == "" {
		return nil, &ValueError{Name: "variable " + EnvName(KeyBackupExec), Value: "", Reason: "is required: it holds the backup script (set by the injector from " + Prefix + KeyBackupExec + ")"}
	}
	return spec, nil
}
