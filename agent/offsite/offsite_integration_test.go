//go:build integration

package offsite

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/minio/minio-go/v7"
	"golang.org/x/sys/unix"

	"github.com/boanu/kab/agent/fsuser"
)

func stamp(i int) string {
	return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(StampLayout)
}

func upload(t *testing.T, s *Store, dir, stamp string) Manifest {
	t.Helper()
	m, err := s.Upload(context.Background(), Source{Dir: dir, Stamp: stamp, Mode: ModeSnapshot, Pod: "notes-0", Kab: "test"})
	if err != nil {
		t.Fatalf("upload %s: %v", stamp, err)
	}
	return m
}

func lastN(n int) Policy {
	return func(times []time.Time) ([]bool, []string) {
		keep := make([]bool, len(times))
		for i := range keep {
			keep[i] = i < n
		}
		return keep, nil
	}
}

// TestOffsite runs every case against one real SeaweedFS server (it takes a while to start).
func TestOffsite(t *testing.T) {
	w := startWeed(t)
	keys := newKeys(t)
	admin := storeFor(t, w, adminKey, adminSecret, keys, true)

	t.Run("empty bucket", func(t *testing.T) {
		_, ok, skipped, err := admin.Newest(context.Background())
		if err != nil || ok || len(skipped) > 0 {
			t.Fatalf("Newest on an empty bucket: ok %t, skipped %v, err %v; want nothing and no error", ok, skipped, err)
		}
	})

	src := t.TempDir()
	writeTree(t, src, 3*PartSize/2) // more than one part: a real multipart upload
	t.Run("upload, list, restore", func(t *testing.T) {
		m := upload(t, admin, src, stamp(0))
		if m.Files != 4 || m.TarBytes == 0 || m.EncryptedBytes == 0 || len(m.SHA256) != 64 {
			t.Fatalf("manifest: %+v", m)
		}
		copies, err := admin.List(context.Background())
		if err != nil || len(copies) != 1 || !copies[0].HasData || !copies[0].HasManifest || copies[0].DataBytes != m.EncryptedBytes {
			t.Fatalf("List: %+v, %v", copies, err)
		}
		newest, ok, _, err := admin.Newest(context.Background())
		if err != nil || !ok || newest.Stamp != stamp(0) || newest.SHA256 != m.SHA256 {
			t.Fatalf("Newest: %+v %t %v", newest, ok, err)
		}
		// The object is plain age: any age implementation with the identity can read it.
		plain := decryptObject(t, w, admin, m.Object, keys.id)
		if bytes.Contains(plain, []byte("CREATE TABLE")) {
			t.Fatal("the object holds plaintext")
		}

		dir := t.TempDir()
		files, err := admin.Restore(context.Background(), newest, admin.cfg.Identities, dir, true)
		if err != nil || files != 4 {
			t.Fatalf("Restore: %d files, %v", files, err)
		}
		if link, _ := os.Readlink(filepath.Join(dir, "latest")); link != "snapshots/"+stamp(0) {
			t.Fatalf("latest -> %q", link)
		}
		sameTree(t, src, filepath.Join(dir, "latest"))
		if has, _ := HasBackup(dir, true); !has {
			t.Fatal("HasBackup after restore: false")
		}

		seed := t.TempDir()
		if _, err := admin.Restore(context.Background(), newest, admin.cfg.Identities, seed, false); err != nil {
			t.Fatal(err)
		}
		sameTree(t, src, seed)
	})

	t.Run("wrong identity refused", func(t *testing.T) {
		newest, _, _, err := admin.Newest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		other := newKeys(t)
		dir := t.TempDir()
		_, err = admin.Restore(context.Background(), newest, []age.Identity{other.id}, dir, true)
		var noMatch *age.NoIdentityMatchError
		if !errors.As(err, &noMatch) {
			t.Fatalf("Restore with another key: %v, want age's no-identity-matched error", err)
		}
		if has, _ := HasBackup(dir, true); has {
			t.Fatal("a refused restore left a latest link")
		}
	})

	t.Run("local failures at fetch fail at once", func(t *testing.T) {
		ctx := context.Background()
		newest, ok, _, err := admin.Newest(ctx)
		if err != nil || !ok {
			t.Fatalf("Newest: %t %v", ok, err)
		}
		// tries runs fn as the fetch does (up to 3 tries) and returns how often it was retried.
		tries := func(fn func() error) (retries int, err error) {
			err = Retry(ctx, 3, Backoff{First: 10 * time.Millisecond, Max: 10 * time.Millisecond},
				func(error, time.Duration) { retries++ }, fn)
			return retries, err
		}
		restoreInto := func(dir string, ids []age.Identity) func() error {
			return func() error { _, err := admin.Restore(ctx, newest, ids, dir, true); return err }
		}
		noBackupLeft := func(t *testing.T, dir string) {
			t.Helper()
			entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
			if has, _ := HasBackup(dir, true); has || len(entries) != 0 {
				t.Fatalf("a failed restore left %v in %s", entries, dir)
			}
		}

		t.Run("folder not writable by the app", func(t *testing.T) {
			dir := t.TempDir() // root's, 0700: the app's uid may not even look in
			app := fsuser.IDs{UID: 1000, GID: 1000}
			retries, err := tries(func() error { return fsuser.Do(app, restoreInto(dir, admin.cfg.Identities)) })
			if retries != 0 || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("%d retries, err %v; want no retry and permission denied", retries, err)
			}
			noBackupLeft(t, dir)
		})

		t.Run("disk full", func(t *testing.T) {
			dir := tmpfs(t, "size=1m") // the copy holds 24 MiB
			retries, err := tries(restoreInto(dir, admin.cfg.Identities))
			if retries != 0 || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("%d retries, err %v; want no retry and no space left on device", retries, err)
			}
			noBackupLeft(t, dir)
		})

		t.Run("wrong identity", func(t *testing.T) {
			dir := t.TempDir()
			retries, err := tries(restoreInto(dir, []age.Identity{newKeys(t).id}))
			if retries != 0 || !errors.Is(err, ErrWrongIdentity) || !strings.Contains(err.Error(), `offsite Secret "kab-offsite": key "identity"`) {
				t.Fatalf("%d retries, err %v; want no retry and an error naming the Secret's identity", retries, err)
			}
			noBackupLeft(t, dir)
		})
	})

	t.Run("wrong S3 key refused", func(t *testing.T) {
		bad := storeFor(t, w, adminKey, "not-the-secret", keys, false)
		if _, err := bad.List(context.Background()); err == nil {
			t.Fatal("List with a wrong secret key succeeded: the server does not enforce keys")
		}
		if _, err := bad.Upload(context.Background(), Source{Dir: src, Stamp: stamp(99), Mode: ModeSnapshot}); err == nil {
			t.Fatal("Upload with a wrong secret key succeeded")
		}
	})

	t.Run("sha256 mismatch refused", func(t *testing.T) {
		// A different, validly encrypted tar under a genuine manifest: age alone cannot tell,
		// the manifest's sha256 must.
		other := t.TempDir()
		writeTree(t, other, 1000)
		m := upload(t, admin, src, stamp(1))
		swap := storeFor(t, w, adminKey, adminSecret, keys, true)
		swapped := upload(t, swap, other, stamp(2))
		raw := w.Client(adminKey, adminSecret)
		if _, err := raw.CopyObject(context.Background(),
			minio.CopyDestOptions{Bucket: testBucket, Object: m.Object},
			minio.CopySrcOptions{Bucket: testBucket, Object: swapped.Object}); err != nil {
			t.Fatal(err)
		}
		removeCopy(t, raw, admin, stamp(2))
		newest, ok, _, err := admin.Newest(context.Background())
		if err != nil || !ok || newest.Stamp != stamp(1) {
			t.Fatalf("Newest: %+v %t %v", newest, ok, err)
		}
		dir := t.TempDir()
		_, err = admin.Restore(context.Background(), newest, admin.cfg.Identities, dir, true)
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("Restore of a swapped object: %v, want ErrChecksum", err)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
		if has, _ := HasBackup(dir, true); has || len(entries) != 0 {
			t.Fatalf("a refused restore left %v", entries)
		}
		removeCopy(t, raw, admin, stamp(1))
	})

	t.Run("retention", func(t *testing.T) {
		for i := 10; i < 14; i++ {
			upload(t, admin, src, stamp(i))
		}
		// An interrupted upload of an older run: data without manifest.
		raw := w.Client(adminKey, adminSecret)
		if _, err := raw.PutObject(context.Background(), testBucket, admin.DataObject(stamp(9)), strings.NewReader("cut"), 3, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		newest := stamp(14)
		upload(t, admin, src, newest)
		deleted, err := admin.Prune(context.Background(), newest, lastN(3))
		if err != nil {
			t.Fatal(err)
		}
		// last=3 counts the new upload: 14, 13, 12 stay; 11, 10 and the first test's 0 go, and
		// so does the interrupted 9.
		if len(deleted) != 4 {
			t.Fatalf("deleted %v, want %s, %s, %s and %s", deleted, stamp(11), stamp(10), stamp(9), stamp(0))
		}
		copies, _ := admin.List(context.Background())
		got := stamps(copies)
		if strings.Join(got, ",") != strings.Join([]string{stamp(14), stamp(13), stamp(12)}, ",") {
			t.Fatalf("left after retention: %v", got)
		}
	})

	t.Run("put-only key: uploads work, retention is left to the bucket", func(t *testing.T) {
		putOnly := storeFor(t, w, putOnlyKey, putOnlySecret, keys, false)
		newest := stamp(15)
		if _, err := putOnly.Upload(context.Background(), Source{Dir: src, Stamp: newest, Mode: ModeSnapshot}); err != nil {
			t.Fatalf("upload with the put-only key: %v", err)
		}
		rec := &countingRecorder{}
		u := NewUploader(putOnly, rec, lastN(1), Backoff{First: time.Second, Max: time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		u.prune(context.Background(), newest)
		u.prune(context.Background(), newest)
		if rec.skipped != 2 {
			t.Fatalf("retention skipped counted %d times, want 2", rec.skipped)
		}
		copies, _ := admin.List(context.Background())
		if len(copies) != 4 {
			t.Fatalf("a put-only key deleted something: %v", stamps(copies))
		}
		_, err := putOnly.Prune(context.Background(), newest, lastN(1))
		if !errors.Is(err, ErrDeleteDenied) {
			t.Fatalf("Prune with a put-only key: %v, want ErrDeleteDenied", err)
		}
	})

	t.Run("server down during upload: retried and counted", func(t *testing.T) {
		big := t.TempDir()
		writeTree(t, big, 8*PartSize)
		rec := &countingRecorder{}
		u := NewUploader(admin, rec, nil, Backoff{First: 2 * time.Second, Max: 5 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		u.Enqueue(Source{Dir: big, Stamp: stamp(20), Mode: ModeSnapshot})
		// Into the stream: the server holds the multipart upload, whose other parts are still
		// to come. A fixed sleep could outlast the whole upload on a fast machine.
		raw := w.Client(adminKey, adminSecret)
		waitFor(t, time.Minute, "the multipart upload to start", func() bool {
			listing, stop := context.WithCancel(context.Background())
			defer stop() // ends the listing goroutine when we return at its first entry
			for upload := range raw.ListIncompleteUploads(listing, testBucket, admin.DataObject(stamp(20)), true) {
				return upload.Err == nil
			}
			return false
		})
		w.Stop()
		// The uploader counts before it updates the status: wait for both.
		waitFor(t, 2*time.Minute, "a failed upload counted", func() bool {
			return rec.counts().failure > 0 && u.Status().LastError != ""
		})
		if st := u.Status(); !strings.Contains(st.LastError, w.Endpoint()) {
			t.Fatalf("status after a failed upload: %+v; want the error naming %s", st, w.Endpoint())
		}
		w.Restart()
		waitFor(t, 3*time.Minute, "the retried upload to succeed", func() bool {
			return rec.counts().success > 0 && u.Status().LastSuccess != nil
		})
		if st := u.Status(); st.LastStamp != stamp(20) {
			t.Fatalf("status after the retry: %+v", st)
		}
		m, err := admin.Manifest(context.Background(), stamp(20))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := admin.Restore(context.Background(), m, admin.cfg.Identities, dir, false); err != nil {
			t.Fatal(err)
		}
		sameTree(t, big, dir)
		t.Logf("failed attempts: %d, then success", rec.counts().failure)
	})

	t.Run("server down at fetch: retried, then an error naming the endpoint", func(t *testing.T) {
		m, err := admin.Manifest(context.Background(), stamp(20))
		if err != nil {
			t.Fatal(err)
		}
		w.Stop()
		defer w.Restart()
		for what, fn := range map[string]func() error{
			"find the newest copy": func() error { _, _, _, err := admin.Newest(context.Background()); return err },
			"download": func() error {
				_, err := admin.Restore(context.Background(), m, admin.cfg.Identities, t.TempDir(), true)
				return err
			},
		} {
			var retries int
			err := Retry(context.Background(), 3, Backoff{First: 100 * time.Millisecond, Max: time.Second},
				func(error, time.Duration) { retries++ }, fn)
			if err == nil || retries != 2 || !strings.Contains(err.Error(), "http://"+w.Endpoint()) {
				t.Fatalf("%s: %d retries, err %v; want 2 retries and an error naming http://%s", what, retries, err, w.Endpoint())
			}
		}
	})
}

func stamps(copies []Copy) []string {
	var s []string
	for _, c := range copies {
		s = append(s, c.Stamp)
	}
	return s
}

func removeCopy(t *testing.T, raw *minio.Client, s *Store, stamp string) {
	t.Helper()
	for _, name := range []string{s.ManifestObject(stamp), s.DataObject(stamp)} {
		if err := raw.RemoveObject(context.Background(), testBucket, name, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func decryptObject(t *testing.T, w *weed, s *Store, name string, id age.Identity) []byte {
	t.Helper()
	obj, err := w.Client(adminKey, adminSecret).GetObject(context.Background(), testBucket, name, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	raw, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := age.Decrypt(bytes.NewReader(raw), id); err != nil {
		t.Fatalf("age cannot decrypt %s: %v", name, err)
	}
	return raw
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type recorded struct{ success, failure, skipped int }

type countingRecorder struct {
	mu      sync.Mutex
	n       recorded
	skipped int
}

func (r *countingRecorder) UploadDone(ok bool, _ int64, _ time.Duration, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		r.n.success++
	} else {
		r.n.failure++
	}
}

func (r *countingRecorder) RetentionSkipped() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped++
}

func (r *countingRecorder) counts() recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// tmpfs mounts a small tmpfs (opts: "size=1m") on a new folder for the test: a disk that fills.
func tmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		t.Fatalf("mount a tmpfs on %s (the integration tests run as root): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
