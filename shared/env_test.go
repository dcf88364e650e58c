package shared

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnvName(t *testing.T) {
	if got := EnvName(KeyBackupExecShell); got != "KAB_BACKUP_EXEC_SHELL" {
		t.Errorf("EnvName = %q", got)
	}
}

// The agent must see exactly the spec the injector parsed: encode then decode is the identity
// on every agent field, and the user's own spelling of the schedule survives.
func TestAgentEnvRoundTrip(t *testing.T) {
	in, err := Parse(annotations(
		KeyBackupName, "app1",
		KeyBackupSchedule, "TZ=Europe/Oslo @daily",
		KeyBackupExecShell, "/bin/bash -c",
		KeyBackupExec, "echo hi > /kab-backup/x",
		KeyBackupTimeout, "5m",
		KeyBackupKeep, "3",
		KeyRestoreExec, "ignored by the agent",
	))
	if err != nil {
		t.Fatal(err)
	}
	env := in.AgentEnv()
	names := map[string]string{}
	for _, e := range env {
		names[e.Name] = e.Value
	}
	want := map[string]string{
		"KAB_BACKUP_NAME": "app1", "KAB_BACKUP_SCHEDULE": "TZ=Europe/Oslo @daily", "KAB_BACKUP_EXEC_SHELL": "/bin/bash -c",
		"KAB_BACKUP_EXEC": "echo hi > /kab-backup/x", "KAB_BACKUP_TIMEOUT": "5m", "KAB_BACKUP_KEEP": "3",
		// Unset optional keys travel empty, defaults filled in: one variable per agent key.
		"KAB_BACKUP_VERIFY": "", "KAB_BACKUP_ALLOW_EMPTY": "false", "KAB_OFFSITE": "",
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("AgentEnv = %v, want %v", names, want)
	}
	out, err := SpecFromEnv(func(k string) string { return names[k] })
	if err != nil {
		t.Fatal(err)
	}
	if out.BackupName != in.BackupName || out.Schedule != in.Schedule || out.Timeout != in.Timeout || out.Keep != in.Keep ||
		out.BackupExec != in.BackupExec || !reflect.DeepEqual(out.BackupShell, in.BackupShell) {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
}

func TestAgentEnvSeedModeKeepsEmptyKeep(t *testing.T) {
	in, err := Parse(annotations(KeyBackupExec, "true"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range in.AgentEnv() {
		if e.Name == "KAB_BACKUP_KEEP" && e.Value != "" {
			t.Fatalf("KAB_BACKUP_KEEP = %q, want empty for seed mode", e.Value)
		}
	}
}

func TestSpecFromEnvErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"KAB_BACKUP_EXEC":     {},
		"KAB_BACKUP_SCHEDULE": {"KAB_BACKUP_EXEC": "x", "KAB_BACKUP_SCHEDULE": "never"},
		"KAB_BACKUP_KEEP":     {"KAB_BACKUP_EXEC": "x", "KAB_BACKUP_KEEP": "0"},
		"KAB_BACKUP_NAME":     {"KAB_BACKUP_EXEC": "x", "KAB_BACKUP_NAME": "../etc"},
		"KAB_BACKUP_TIMEOUT":  {"KAB_BACKUP_EXEC": "x", "KAB_BACKUP_TIMEOUT": "forever"},
	}
	for variable, env := range cases {
		_, err := SpecFromEnv(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), "variable "+variable) {
			t.Errorf("env %v: error %v does not name %s", env, err, variable)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("backup-schedule", "3600", "backup-name", "app")
	f.Add("backup-shedule", "1", "backup-exec", "x")
	f.Add("backup-keep", "0", "backup-timeout", "1h")
	f.Add("status", "injected", "backup-name", "../..")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ann := map[string]string{Prefix + k1: v1, Prefix + k2: v2}
		spec, err := Parse(ann)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		// An accepted spec is always safe to use: a single path segment, a positive schedule,
		// an absolute shell, a bounded timeout and keep.
		if !backupNamePattern.MatchString(spec.BackupName) || strings.Contains(spec.BackupName, "/") || spec.BackupName == ".." {
			t.Fatalf("unsafe backup name %q accepted", spec.BackupName)
		}
		if !spec.Schedule.IsCron() && spec.Schedule.Every <= 0 {
			t.Fatalf("non-positive schedule accepted: %+v", spec.Schedule)
		}
		if len(spec.BackupShell) == 0 || !strings.HasPrefix(spec.BackupShell[0], "/") {
			t.Fatalf("bad shell accepted: %q", spec.BackupShell)
		}
		if spec.Timeout <= 0 || spec.Timeout > MaxBackupTimeout || !keepInRange(spec.Keep) {
			t.Fatalf("out-of-range value accepted: %+v", spec)
		}
		// What the injector encodes, the agent decodes to the same spec.
		if spec.BackupExec != "" {
			env := map[string]string{}
			for _, e := range spec.AgentEnv() {
				env[e.Name] = e.Value
			}
			back, err := SpecFromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("agent cannot decode what the injector encoded: %v", err)
			}
			if back.Schedule != spec.Schedule || back.Keep != spec.Keep || back.Timeout != spec.Timeout {
				t.Fatalf("round trip changed the spec: %+v vs %+v", back, spec)
			}
		}
	})
}

func keepInRange(p KeepPolicy) bool {
	for _, rule := range KeepRules {
		if n := p.Count(rule); n < 0 || n > MaxBackupKeep {
			return false
		}
	}
	return true
}
