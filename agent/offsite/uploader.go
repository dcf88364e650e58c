package offsite

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Recorder takes the upload metrics (agent/metrics implements it).
type Recorder interface {
	UploadDone(ok bool, bytes int64, duration time.Duration, end time.Time)
	RetentionSkipped()
}

// Status is the "offsite" block of GET /status.
type Status struct {
	LastSuccess *time.Time `json:"lastSuccess"`
	LastError   string     `json:"lastError"`
	LastStamp   string     `json:"lastStamp"` // stamp of the last copy uploaded
}

// Uploader uploads each good run in the background, one at a time. A failed upload is retried
// with backoff until a newer good run replaces it; it never touches the local backup, and the
// run that produced it has long been recorded a success.
type Uploader struct {
	store   *Store
	rec     Recorder
	log     *slog.Logger
	policy  Policy // nil: no remote retention (seed mode)
	backoff Backoff

	mu           sync.Mutex
	pending      *Source
	status       Status
	deniedLogged bool
	wake         chan struct{}
}

// NewUploader returns an uploader; Run must be started for it to do anything.
func NewUploader(store *Store, rec Recorder, policy Policy, backoff Backoff, log *slog.Logger) *Uploader {
	return &Uploader{store: store, rec: rec, policy: policy, backoff: backoff, log: log, wake: make(chan struct{}, 1)}
}

// Enqueue asks for src to be uploaded and returns at once. A copy still waiting (or retrying)
// is dropped: the newer good run supersedes it.
func (u *Uploader) Enqueue(src Source) {
	u.mu.Lock()
	u.pending = &src
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Status returns the last outcome, for GET /status.
func (u *Uploader) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}

func (u *Uploader) take() *Source {
	u.mu.Lock()
	defer u.mu.Unlock()
	src := u.pending
	u.pending = nil
	return src
}

// Run uploads until ctx ends. An upload in flight when ctx ends is abandoned (minio-go aborts
// its multipart upload).
func (u *Uploader) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		}
		for src := u.take(); src != nil; src = u.attempt(ctx, *src) {
		}
	}
}

// attempt tries src until it succeeds, a newer one arrives (returned) or ctx ends.
func (u *Uploader) attempt(ctx context.Context, src Source) (newer *Source) {
	for failed := 0; ; {
		start := time.Now()
		m, err := u.store.Upload(ctx, src)
		end := time.Now()
		// Hand the upload's buffers (the 16 MiB part, zstd's history) back to the OS now: the
		// next upload allocates its own before the collector would free these, and the two
		// together made the agent's peak (58 MiB against 46 for one upload, measured). The
		// agent then idles until the next run, so one forced collection here costs nothing.
		debug.FreeOSMemory()
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			u.rec.UploadDone(true, m.EncryptedBytes, end.Sub(start), end)
			u.mu.Lock()
			t := end.UTC()
			u.status = Status{LastSuccess: &t, LastStamp: src.Stamp}
			u.mu.Unlock()
			u.log.Info("offsite copy uploaded", "stamp", src.Stamp, "object", m.Object, "tar_bytes", m.TarBytes,
				"uploaded_bytes", m.EncryptedBytes, "files", m.Files, "duration_seconds", end.Sub(start).Seconds())
			u.prune(ctx, src.Stamp)
			return nil
		}
		failed++
		u.rec.UploadDone(false, 0, end.Sub(start), end)
		u.mu.Lock()
		u.status.LastError = err.Error()
		u.mu.Unlock()
		wait := u.backoff.Next(failed)
		u.log.Warn("offsite upload failed; retrying", "stamp", src.Stamp, "attempt", failed, "retry_in", wait.String(), "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-u.wake:
			if next := u.take(); next != nil {
				u.log.Info("offsite upload superseded by a newer run", "stamp", src.Stamp, "newer", next.Stamp)
				return next
			}
		case <-time.After(wait):
		}
	}
}

// prune applies remote retention after a successful upload. Its failures are logged, never
// fatal: the copy just uploaded is safe either way.
func (u *Uploader) prune(ctx context.Context, newest string) {
	if u.policy == nil {
		return
	}
	deleted, err := u.store.Prune(ctx, newest, u.policy)
	for _, stamp := range deleted {
		u.log.Info("offsite copy removed by retention", "stamp", stamp)
	}
	switch {
	case errors.Is(err, ErrDeleteDenied):
		u.rec.RetentionSkipped()
		u.mu.Lock()
		first := !u.deniedLogged
		u.deniedLogged = true
		u.mu.Unlock()
		if first {
			u.log.Warn("offsite retention left to the bucket: the key may not delete (set lifecycle rules or object lock on the bucket)", "error", err)
		}
	case err != nil:
		u.log.Warn("offsite retention failed; it runs again after the next upload", "error", err)
	}
}
