package offsite

import (
	"errors"
	"net"

	"github.com/minio/minio-go/v7"
)

// isNetwork reports an error that says nothing about the bucket's content: the endpoint could
// not be reached or did not answer. Restore retries those instead of passing over a copy.
func isNetwork(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode >= 500 || resp.StatusCode == 0
	}
	return false
}

// IsUnreachable reports whether err means the endpoint could not be reached or failed (retry),
// as opposed to an answer about the bucket's content or rights.
func IsUnreachable(err error) bool { return isNetwork(err) }
