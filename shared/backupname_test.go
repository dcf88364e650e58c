package shared

import (
	"regexp"
	"strings"
	"testing"
)

// backupNamePattern is the backup-name rule as the docs state it; validBackupName must agree.
var backupNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// TestValidBackupNameIsThePattern: the hand-written check accepts exactly what the documented
// pattern accepts.
func TestValidBackupNameIsThePattern(t *testing.T) {
	names := []string{"", "a", "A", "0", ".", "_", "-", "a.", "a_b-c.d", ".a", "-a", "_a", "a/b", "..", "a b",
		"é", "aé", "a\x00", "a\n", strings.Repeat("a", 62), strings.Repeat("a", 63), strings.Repeat("a", 64),
		"my-app", "pg.main_1", "a~", "a+b", "a:b", "Zz9"}
	for c := range 256 { // every byte, first and later
		names = append(names, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}))
	}
	for _, name := range names {
		if got, want := validBackupName(name), backupNamePattern.MatchString(name); got != want {
			t.Errorf("validBackupName(%q) = %v, the pattern says %v", name, got, want)
		}
	}
}

func FuzzValidBackupName(f *testing.F) {
	f.Add("my-app")
	f.Add("-x")
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := validBackupName(name), backupNamePattern.MatchString(name); got != want {
			t.Errorf("validBackupName(%q) = %v, the pattern says %v", name, got, want)
		}
	})
}
