package shared

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var backupNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// parseBackupName accepts one safe path segment: the name addresses a folder on a shared
// volume, so it must never climb out of it or into another app's folder.
func parseBackupName(v string) (string, error) {
	if !backupNamePattern.MatchString(v) {
		return "", fmt.Errorf("is not a valid backup name; use one path segment of 1 to 63 characters: a letter or digit, then letters, digits, '.', '_' or '-' (e.g. %q)", "my-app")
	}
	return v, nil
}

func parseShell(v string) ([]string, error) {
	words := strings.Fields(v)
	if len(words) == 0 {
		return nil, fmt.Errorf("has no words; use a shell and its flag, e.g. %q", "/bin/sh -c")
	}
	if !strings.HasPrefix(words[0], "/") {
		// The agent runs the command inside the app's root without a PATH search of its own.
		return nil, fmt.Errorf("must start with an absolute path to the program, e.g. %q or %q", "/bin/sh -c", "/bin/bash -c")
	}
	return words, nil
}

func parseTimeout(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > MaxBackupTimeout {
		return 0, fmt.Errorf("is not a valid timeout; use a Go duration above 0 and at most %s, e.g. %q or %q", "168h", "30m", "2h")
	}
	return d, nil
}

func parseKeep(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < MinBackupKeep || n > MaxBackupKeep {
		return 0, fmt.Errorf("is not a valid snapshot count; use a whole number from %d to %d, or remove the annotation for seed mode", MinBackupKeep, MaxBackupKeep)
	}
	return n, nil
}
