package offsite

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"

	"github.com/minio/minio-go/v7"
)

// isNetwork reports an error that says nothing about the bucket's content: the endpoint could
// not be reached or did not answer. Restore retries those instead of passing over a copy.
//
// Local failures are never network ones: a folder the app's uid may not write, a full disk or
// a missing file are *fs.PathError (or *os.LinkError) around a syscall.Errno — and
// syscall.Errno has Timeout and Temporary methods, so it satisfies net.Error and was retried
// for minutes like a dead endpoint. So the network is recognised by its own error types.
func isNetwork(err error) bool {
	if err == nil || isLocal(err) || errors.Is(err, context.Canceled) {
		return false
	}
	// A certificate the CA bundle does not vouch for will not change on the next try.
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return false
	}
	var urlErr *url.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &urlErr) || errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode >= 500 || resp.StatusCode == 0
	}
	return false
}

// IsLocal reports an error from this machine's file system (a folder not writable, a full
// disk): the fetch names the folder and fails at once.
func IsLocal(err error) bool { return isLocal(err) }

func isLocal(err error) bool {
	// Not *os.SyscallError: net.OpError wraps one ("connect: connection refused").
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	return errors.As(err, &pathErr) || errors.As(err, &linkErr)
}

// IsUnreachable reports whether err means the endpoint could not be reached or failed (retry),
// as opposed to an answer about the bucket's content or rights, or a local failure.
func IsUnreachable(err error) bool { return isNetwork(err) }
