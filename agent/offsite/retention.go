package offsite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// ErrDeleteDenied is wrapped when the bucket refuses a delete (a put-only key): retention is
// then the bucket's job (lifecycle rules or object lock), never a failed backup.
var ErrDeleteDenied = errors.New("delete refused by the bucket (put-only credentials?)")

// Policy decides, for stamp times newest first, which to keep (same order). It is the
// backup-keep policy applied by agent/retention.
type Policy func(times []time.Time) (keep []bool, reasons []string)

// Prune applies policy to the complete remote copies and deletes the rest — only copies older
// than newest, which the caller has just uploaded, so a remote copy is deleted only after a
// newer upload succeeded. Incomplete copies older than newest (an interrupted upload) go too.
// Manifest first, then data: a half-deleted copy is never taken for a complete one.
func (s *Store) Prune(ctx context.Context, newest string, policy Policy) (deleted []string, err error) {
	copies, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var complete []Copy
	var times []time.Time
	var doomed []string
	for _, c := range copies {
		if c.Stamp >= newest {
			continue
		}
		if !c.HasData || !c.HasManifest {
			doomed = append(doomed, c.Stamp)
			continue
		}
		t, _ := time.Parse(StampLayout, c.Stamp)
		complete = append(complete, c)
		times = append(times, t)
	}
	// The policy sees the newest copy too: it counts against last=N and its periods.
	newestTime, perr := time.Parse(StampLayout, newest)
	if perr != nil {
		return nil, fmt.Errorf("prune: %q is not a stamp", newest)
	}
	keep, _ := policy(append([]time.Time{newestTime}, times...))
	for i, c := range complete {
		if !keep[i+1] {
			doomed = append(doomed, c.Stamp)
		}
	}
	for _, stamp := range doomed {
		for _, name := range []string{s.ManifestObject(stamp), s.DataObject(stamp)} {
			if err := s.client.RemoveObject(ctx, s.cfg.Bucket, name, minio.RemoveObjectOptions{}); err != nil {
				if isDenied(err) {
					return deleted, fmt.Errorf("%w: remove %s from %s: %w", ErrDeleteDenied, name, s.Where(), err)
				}
				return deleted, fmt.Errorf("remove %s from %s: %w", name, s.Where(), err)
			}
		}
		deleted = append(deleted, stamp)
	}
	return deleted, nil
}
