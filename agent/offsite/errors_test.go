package offsite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"filippo.io/age"
	"github.com/minio/minio-go/v7"
)

// The fetch retries only what a later try can change. The local cases are the ones that were
// retried before: syscall.Errno satisfies net.Error (it has Timeout and Temporary methods).
func TestIsUnreachable(t *testing.T) {
	dial := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/kab", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("list: %w", dial), true},
		{"reset while reading the body", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"unknown host", &url.Error{Op: "Get", URL: "http://s3.invalid", Err: &net.DNSError{Err: "no such host", Name: "s3.invalid"}}, true},
		{"server error", minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}, true},
		{"no such key", minio.ErrorResponse{StatusCode: 404, Code: "NoSuchKey"}, false},
		{"access denied", minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}, false},
		{"folder not writable", fmt.Errorf("unpack: %w", &fs.PathError{Op: "mkdir", Path: "/kab-backup/snapshots", Err: syscall.EACCES}), false},
		{"disk full", fmt.Errorf("write dump.sql: %w", &fs.PathError{Op: "write", Path: "/kab-backup/x", Err: syscall.ENOSPC}), false},
		{"read-only file system", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EROFS}, false},
		{"wrong identity", fmt.Errorf("%w: %w", ErrWrongIdentity, &age.NoIdentityMatchError{}), false},
		{"sha256 mismatch", fmt.Errorf("%w: x", ErrChecksum), false},
		{"shutting down", &url.Error{Op: "Get", URL: "http://s3", Err: context.Canceled}, false},
		{"nil", nil, false},
	} {
		if got := IsUnreachable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnreachable(%v) = %t, want %t", tc.name, tc.err, got, tc.want)
		}
	}
	// The bare errno is what made the old check retry local failures.
	var netErr net.Error
	if !errors.As(error(syscall.ENOSPC), &netErr) {
		t.Fatal("syscall.Errno no longer satisfies net.Error; the comment in errors.go is stale")
	}
}
