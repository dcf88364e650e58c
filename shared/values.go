package shared

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// parseBackupName accepts one safe path segment: the name addresses a folder on a shared
// volume, so it must never climb out of it or into another app's folder.
func parseBackupName(v string) (string, error) {
	if !validBackupName(v) {
		return "", fmt.Errorf("is not a valid backup name; use one path segment of 1 to 63 characters: a letter or digit, then letters, digits, '.', '_' or '-' (e.g. %q)", "my-app")
	}
	return v, nil
}

// validBackupName: 1 to 63 bytes, an ASCII letter or digit, then letters, digits, '.', '_' or
// '-' — the pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ (checked against it in
// backupname_test.go), as a loop: every admission checks it.
func validBackupName(v string) bool {
	if len(v) == 0 || len(v) > 63 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
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

// parseBool accepts exactly "true" or "false": a typo such as "yes" must not silently mean off.
func parseBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("is not a boolean; use %q or %q", "true", "false")
}

var secretNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// parseSecretName accepts a Kubernetes object name (DNS subdomain): it names a Secret.
func parseSecretName(v string) (string, error) {
	if len(v) > 253 || !secretNamePattern.MatchString(v) {
		return "", fmt.Errorf("is not a Secret name; use the name of a Secret in the pod's namespace: lowercase letters, digits, '-' and '.', e.g. %q", "kab-offsite")
	}
	return v, nil
}
