package target

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// ReadKernelFile reads what os.ReadFile reads, past its first buffer too, and fails the same
// way on a missing file.
func TestReadKernelFile(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("0123456789abcdef"), 4096+3), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{big, "/proc/self/status", fmt.Sprintf("/proc/%d/environ", os.Getpid())} {
		got, err := ReadKernelFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// status changes between two reads (its counters): compare what does not.
		if path == "/proc/self/status" {
			got, want = got[:bytes.Index(got, []byte("\nUid:"))], want[:bytes.Index(want, []byte("\nUid:"))]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, os.ReadFile %d", path, len(got), len(want))
		}
	}
	_, err := ReadKernelFile("/proc/999999999/stat")
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != "/proc/999999999/stat" {
		t.Errorf("missing file: %v, want a *fs.PathError for it that is fs.ErrNotExist", err)
	}
}
