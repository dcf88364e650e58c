package settings_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/boanu/kab/agent/settings"
	"github.com/boanu/kab/shared"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaultsFromTheInjectorsEnv(t *testing.T) {
	c, err := settings.Load(env(map[string]string{
		"KAB_CONTAINER": "app", "KAB_BACKUP_EXEC": "pg_dump > $KAB_BACKUP_DIR/db.sql", "KAB_BACKUP_KEEP": "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupDir != "/kab-backup" || c.MetricsAddr != ":9779" || c.ControlAddr != "127.0.0.1:9780" {
		t.Errorf("defaults: %+v", c)
	}
	if c.Spec.BackupName != "default" || c.Spec.Schedule.Every != time.Hour || c.Spec.SnapshotMode() || c.Spec.Timeout != time.Hour {
		t.Errorf("spec defaults: %+v", c.Spec)
	}
}

func TestFlagsOverrideTheEnv(t *testing.T) {
	fs := flag.NewFlagSet("kab-agent", flag.ContinueOnError)
	getenv := settings.Flags(fs, env(map[string]string{"KAB_CONTAINER": "app", "KAB_BACKUP_EXEC": "x", "KAB_BACKUP_KEEP": "3"}))
	if err := fs.Parse([]string{"--backup-keep=7", "--container=db", "--backup-dir=/backup"}); err != nil {
		t.Fatal(err)
	}
	c, err := settings.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Keep != (shared.KeepPolicy{Last: 7}) || c.Container != "db" || c.BackupDir != "/backup" {
		t.Errorf("flags not applied: keep %+v container %q dir %q", c.Spec.Keep, c.Container, c.BackupDir)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"KAB_BACKUP_DIR", "relative/path"},
		{"KAB_BACKUP_DIR", "/kab-backup/../etc"},
		{"KAB_METRICS_ADDR", "9779"},
		{"KAB_CONTROL_ADDR", "10.0.0.1:9780"},
		{"KAB_BACKUP_TIMEOUT", "200h"},
		{"KAB_BACKUP_EXEC_SHELL", "sh -c"},
	} {
		vars := map[string]string{"KAB_CONTAINER": "app", "KAB_BACKUP_EXEC": "x", tc.name: tc.value}
		if _, err := settings.Load(env(vars)); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%q: error %v, want one naming %s", tc.name, tc.value, err, tc.name)
		}
	}
}
