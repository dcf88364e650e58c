// Package settings reads the agent's configuration: the KAB_* environment the injector writes
// (decoded by shared/, the same table that encoded it), optionally overridden by flags.
package settings

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"path"

	"github.com/boanu/kab/shared"
)

// Config is everything the agent runs with.
type Config struct {
	Spec         *shared.Spec
	Container    string // KAB_CONTAINER: the marker value to look for
	BackupDir    string // KAB_BACKUP_DIR
	MetricsAddr  string // KAB_METRICS_ADDR: /metrics and /healthz
	ControlAddr  string // KAB_CONTROL_ADDR: POST /backup, GET /status
	PodName      string
	PodNamespace string
}

// agentVars are the agent's own variables (the annotation-derived ones come from shared/).
var agentVars = []struct{ env, flag, usage string }{
	{shared.EnvContainer, "container", "the app container's name, as in its KAB_CONTAINER marker env"},
	{shared.EnvBackupDir, "backup-dir", "where the backup volume is mounted, the same path in app and agent (default " + shared.BackupDir + ")"},
	{shared.EnvMetricsAddr, "metrics-addr", fmt.Sprintf("listen address for /metrics and /healthz (default :%d)", shared.DefaultAgentPort)},
	{shared.EnvControlAddr, "control-addr", "loopback listen address of the control API (default " + shared.DefaultControlAddr + ")"},
	{shared.EnvPodName, "pod-name", "the pod's name (downward API)"},
	{shared.EnvPodNamespace, "pod-namespace", "the pod's namespace (downward API)"},
}

// specVars are the annotation-derived variables, each with a flag named after its annotation.
var specVars = []string{
	shared.KeyBackupName, shared.KeyBackupSchedule, shared.KeyBackupExecShell,
	shared.KeyBackupExec, shared.KeyBackupTimeout, shared.KeyBackupKeep,
}

// Flags registers one flag per variable on fs and returns the environment as the flags
// override it; call the returned function after fs.Parse.
func Flags(fs *flag.FlagSet, getenv func(string) string) func(string) string {
	set := map[string]*string{}
	for _, v := range agentVars {
		set[v.env] = fs.String(v.flag, "", v.usage+" (env "+v.env+")")
	}
	for _, key := range specVars {
		env := shared.EnvName(key)
		set[env] = fs.String(key, "", "overrides "+env+" (annotation "+shared.Prefix+key+")")
	}
	return func(name string) string {
		explicit := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
		if p, ok := set[name]; ok && explicit[flagName(name)] {
			return *p
		}
		return getenv(name)
	}
}

func flagName(env string) string {
	for _, v := range agentVars {
		if v.env == env {
			return v.flag
		}
	}
	for _, key := range specVars {
		if shared.EnvName(key) == env {
			return key
		}
	}
	return ""
}

// Load reads and checks the configuration. Errors name the variable.
func Load(getenv func(string) string) (*Config, error) {
	spec, err := shared.SpecFromEnv(getenv)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	c := &Config{
		Spec:         spec,
		Container:    getenv(shared.EnvContainer),
		BackupDir:    orDefault(getenv(shared.EnvBackupDir), shared.BackupDir),
		MetricsAddr:  orDefault(getenv(shared.EnvMetricsAddr), fmt.Sprintf(":%d", shared.DefaultAgentPort)),
		ControlAddr:  orDefault(getenv(shared.EnvControlAddr), shared.DefaultControlAddr),
		PodName:      getenv(shared.EnvPodName),
		PodNamespace: getenv(shared.EnvPodNamespace),
	}
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Config) validate() []error {
	var errs []error
	if c.Container == "" {
		errs = append(errs, &shared.ValueError{Name: "variable " + shared.EnvContainer, Value: "", Reason: "is required: it names the app container whose process the agent looks for (set by the injector)"})
	}
	if !path.IsAbs(c.BackupDir) || path.Clean(c.BackupDir) != c.BackupDir || c.BackupDir == "/" {
		errs = append(errs, &shared.ValueError{Name: "variable " + shared.EnvBackupDir, Value: c.BackupDir, Reason: "must be a clean absolute path below /, e.g. " + shared.BackupDir})
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		errs = append(errs, &shared.ValueError{Name: "variable " + shared.EnvMetricsAddr, Value: c.MetricsAddr, Reason: "is not a listen address; use host:port or :port, e.g. :9779"})
	}
	if host, _, err := net.SplitHostPort(c.ControlAddr); err != nil || !isLoopback(host) {
		// The control API starts backups without authentication: only processes in the pod
		// (kubectl exec) may reach it.
		errs = append(errs, &shared.ValueError{Name: "variable " + shared.EnvControlAddr, Value: c.ControlAddr, Reason: "must be a loopback address with a port, e.g. " + shared.DefaultControlAddr})
	}
	return errs
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
