package shared

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func annotations(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[Prefix+kv[i]] = kv[i+1]
	}
	return m
}

func TestParseDefaults(t *testing.T) {
	spec, err := Parse(annotations(KeyBackupExec, "tar cf /kab-backup/a.tar /data"))
	if err != nil {
		t.Fatal(err)
	}
	if spec.BackupName != "default" {
		t.Errorf("backup name = %q, want default", spec.BackupName)
	}
	if spec.Schedule.Every != time.Hour || spec.Schedule.IsCron() {
		t.Errorf("schedule = %+v, want every 1h", spec.Schedule)
	}
	if got := strings.Join(spec.BackupShell, " "); got != "/bin/sh -c" {
		t.Errorf("backup shell = %q", got)
	}
	if got := strings.Join(spec.RestoreShell, " "); got != "/bin/sh -c" {
		t.Errorf("restore shell = %q", got)
	}
	if spec.Timeout != time.Hour {
		t.Errorf("timeout = %s, want 1h", spec.Timeout)
	}
	if spec.SnapshotMode() || !spec.Keep.IsZero() {
		t.Errorf("keep = %+v, want seed mode", spec.Keep)
	}
	if spec.RestoreExec != "" || spec.ContainerName != "" {
		t.Errorf("unset keys got values: %+v", spec)
	}
}

func TestParseAllKeys(t *testing.T) {
	spec, err := Parse(annotations(
		KeyBackupName, "pg.main_1",
		KeyContainerName, "db",
		KeyBackupSchedule, "CRON_TZ=Europe/Oslo 0 3 * * MON-FRI",
		KeyBackupExecShell, "/bin/bash  -e -c",
		KeyBackupExec, "pg_dump > /kab-backup/db.sql",
		KeyRestoreExecShell, "/bin/ash -c",
		KeyRestoreExec, "psql < /kab-backup/db.sql",
		KeyBackupTimeout, "90m",
		KeyBackupKeep, "7",
		KeyStatus, "injected",
	))
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{BackupName: "pg.main_1", ContainerName: "db", Timeout: 90 * time.Minute, Keep: KeepPolicy{Last: 7},
		BackupExec: "pg_dump > /kab-backup/db.sql", RestoreExec: "psql < /kab-backup/db.sql"}
	if spec.BackupName != want.BackupName || spec.ContainerName != want.ContainerName || spec.Timeout != want.Timeout ||
		spec.Keep != want.Keep || spec.BackupExec != want.BackupExec || spec.RestoreExec != want.RestoreExec {
		t.Errorf("spec = %+v, want %+v", spec, want)
	}
	if spec.Schedule.Cron != "CRON_TZ=Europe/Oslo 0 3 * * MON-FRI" {
		t.Errorf("cron = %q", spec.Schedule.Cron)
	}
	if got := strings.Join(spec.BackupShell, "|"); got != "/bin/bash|-e|-c" {
		t.Errorf("backup shell words = %q", got)
	}
	if got := strings.Join(spec.RestoreShell, "|"); got != "/bin/ash|-c" {
		t.Errorf("restore shell words = %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name    string
		ann     map[string]string
		wantAll []string // every fragment must appear in the error
	}{
		{"empty value", annotations(KeyBackupSchedule, ""), []string{Prefix + KeyBackupSchedule, "empty", `"3600"`}},
		{"blank value", annotations(KeyBackupExec, "  "), []string{Prefix + KeyBackupExec, "empty"}},
		{"name with slash", annotations(KeyBackupName, "a/b"), []string{Prefix + KeyBackupName, `"a/b"`, "one path segment"}},
		{"name dotdot", annotations(KeyBackupName, ".."), []string{Prefix + KeyBackupName, "one path segment"}},
		{"name dot", annotations(KeyBackupName, "."), []string{Prefix + KeyBackupName}},
		{"name leading dash", annotations(KeyBackupName, "-x"), []string{Prefix + KeyBackupName}},
		{"name too long", annotations(KeyBackupName, strings.Repeat("a", 64)), []string{Prefix + KeyBackupName}},
		{"schedule zero", annotations(KeyBackupSchedule, "0"), []string{Prefix + KeyBackupSchedule, "at least 1"}},
		{"schedule negative", annotations(KeyBackupSchedule, "-5"), []string{Prefix + KeyBackupSchedule}},
		{"schedule negative duration", annotations(KeyBackupSchedule, "-1h"), []string{Prefix + KeyBackupSchedule, "above zero"}},
		{"schedule zero every", annotations(KeyBackupSchedule, "@every 0s"), []string{Prefix + KeyBackupSchedule, "above zero"}},
		{"schedule garbage", annotations(KeyBackupSchedule, "sometimes"), []string{Prefix + KeyBackupSchedule, `"sometimes"`, "5-field cron"}},
		{"schedule six fields", annotations(KeyBackupSchedule, "0 0 3 * * *"), []string{Prefix + KeyBackupSchedule, "5-field cron"}},
		{"schedule bad zone", annotations(KeyBackupSchedule, "CRON_TZ=Mars/Base 0 3 * * *"), []string{"unknown time zone", `"Mars/Base"`}},
		{"schedule zone only", annotations(KeyBackupSchedule, "TZ=UTC"), []string{Prefix + KeyBackupSchedule}},
		{"shell relative", annotations(KeyBackupExecShell, "sh -c"), []string{Prefix + KeyBackupExecShell, "absolute path"}},
		{"restore shell relative", annotations(KeyRestoreExecShell, "bash -c"), []string{Prefix + KeyRestoreExecShell, "absolute path"}},
		{"timeout bad", annotations(KeyBackupTimeout, "soon"), []string{Prefix + KeyBackupTimeout, "168h"}},
		{"timeout zero", annotations(KeyBackupTimeout, "0s"), []string{Prefix + KeyBackupTimeout}},
		{"timeout too long", annotations(KeyBackupTimeout, "169h"), []string{Prefix + KeyBackupTimeout}},
		{"keep zero", annotations(KeyBackupKeep, "0"), []string{Prefix + KeyBackupKeep, "1 to 1000"}},
		{"keep too many", annotations(KeyBackupKeep, "1001"), []string{Prefix + KeyBackupKeep, "1 to 1000"}},
		{"keep not a number", annotations(KeyBackupKeep, "seven"), []string{Prefix + KeyBackupKeep}},
		{"typo key", annotations(KeyBackupExec, "x", "backup-shedule", "100"), []string{Prefix + "backup-shedule", "did you mean " + Prefix + KeyBackupSchedule}},
		{"typo restore", annotations("restore-exc", "x"), []string{"did you mean " + Prefix + KeyRestoreExec}},
		{"two problems at once", annotations(KeyBackupKeep, "0", KeyBackupTimeout, "x"), []string{Prefix + KeyBackupKeep, Prefix + KeyBackupTimeout}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse(tc.ann)
			if err == nil {
				t.Fatalf("Parse(%v) = %+v, want an error", tc.ann, spec)
			}
			for _, frag := range tc.wantAll {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not mention %q", err, frag)
				}
			}
		})
	}
}

func TestUnknownKeyIsSentinel(t *testing.T) {
	_, err := Parse(annotations("backup-nmae", "x"))
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("error %v does not wrap ErrUnknownKey", err)
	}
	var ve *ValueError
	if errors.As(err, &ve) {
		t.Fatalf("unknown key reported as a value error: %v", ve)
	}
}

func TestHasAnnotations(t *testing.T) {
	if HasAnnotations(map[string]string{"other.io/x": "1"}) {
		t.Error("foreign annotations counted as kab's")
	}
	if HasAnnotations(nil) {
		t.Error("nil map counted as kab's")
	}
	if !HasAnnotations(map[string]string{Prefix + "anything": "1"}) {
		t.Error("a key under the prefix not counted")
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"backup-shedule", "backup-schedule", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
