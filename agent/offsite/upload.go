package offsite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"

	"github.com/boanu/kab/agent/fsuser"
)

// PartSize is the one buffer that bounds the agent's memory while uploading: minio-go holds one
// part of a stream of unknown length in memory before sending it. 16 MiB × 10,000 parts allows
// objects up to 156 GiB.
const PartSize = 16 << 20

// MemoryLimit is the Go runtime's soft memory limit for a process that uploads
// (debug.SetMemoryLimit). While uploading, about 25 MiB stays live (the part, zstd's history
// and tables, the agent itself); with the default GOGC=100 the heap grows to twice that
// before each collection, and the agent's peak RSS reached 67–69 MiB for 2 GiB (measured,
// docs/PERFORMANCE.md). The limit makes the collector run before the heap doubles. It is soft:
// a heap that truly needs more gets it, at the price of more frequent collections.
const MemoryLimit = 40 << 20

// Source is what one upload reads: a folder, walked as ReadAs when set (the app's files may be
// readable only by the app's uid, and the agent has no DAC capabilities).
type Source struct {
	Dir    string
	ReadAs *fsuser.IDs
	Stamp  string
	Mode   string // ModeSnapshot or ModeSeed
	Pod    string
	Kab    string // kab version, for the manifest
}

// counter counts bytes passing to w.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Upload streams src as tar → zstd → age into <stamp>.tar.zst.age, then writes <stamp>.json.
// Nothing is staged on disk; the sha256 of the tar is a tee on the way.
func (s *Store) Upload(ctx context.Context, src Source) (Manifest, error) {
	if len(s.cfg.Recipients) == 0 {
		// Never plaintext: Load refuses a Secret without recipients, this guards other callers.
		return Manifest{}, errors.New("offsite upload without age recipients refused")
	}
	m := Manifest{Stamp: src.Stamp, Object: s.DataObject(src.Stamp), Mode: src.Mode, Pod: src.Pod, KabVersion: src.Kab}
	pr, pw := io.Pipe()
	sum := sha256.New()
	tarCount, zstdCount, ageCount := &counter{}, &counter{}, &counter{w: pw}
	produced := make(chan error, 1)
	go func() {
		files, err := s.pack(src, sum, tarCount, zstdCount, ageCount)
		m.Files = files
		// Closing the pipe with the error makes PutObject fail instead of storing a cut stream.
		pw.CloseWithError(err)
		produced <- err
	}()
	_, putErr := s.client.PutObject(ctx, s.cfg.Bucket, m.Object, pr, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    PartSize,
		NumThreads:  1,
	})
	// Unblock the producer if PutObject stopped reading early.
	pr.CloseWithError(errors.Join(putErr, errors.New("upload stopped")))
	packErr := <-produced
	if packErr != nil {
		return m, fmt.Errorf("read %s for the offsite copy: %w", src.Dir, packErr)
	}
	if putErr != nil {
		return m, fmt.Errorf("upload %s to %s: %w", m.Object, s.Where(), putErr)
	}
	m.SHA256 = hex.EncodeToString(sum.Sum(nil))
	m.TarBytes, m.CompressedBytes, m.EncryptedBytes = tarCount.n, zstdCount.n, ageCount.n
	m.Uploaded = time.Now().UTC()
	body := m.encode()
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.ManifestObject(src.Stamp), bytes.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "application/json"}); err != nil {
		return m, fmt.Errorf("upload %s to %s: %w", s.ManifestObject(src.Stamp), s.Where(), err)
	}
	return m, nil
}

// pack writes tar(src) → tee(sum) → zstd → age → out (ageCount wraps the pipe).
func (s *Store) pack(src Source, sum io.Writer, tarCount, zstdCount, ageCount *counter) (files int, err error) {
	enc, err := age.Encrypt(ageCount, s.cfg.Recipients...)
	if err != nil {
		return 0, fmt.Errorf("age: %w", err)
	}
	zstdCount.w = enc
	// One encoder with a 2 MiB window: its history buffer is twice the window, so this holds the
	// encoder near 6 MiB (10 MiB with 4 MiB). Not WithLowerEncoderMem: it shrinks the history to
	// window + one block, so the history is shifted after every block — 3–5× slower (measured).
	zw, err := zstd.NewWriter(zstdCount, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(2<<20))
	if err != nil {
		return 0, err
	}
	tarCount.w = io.MultiWriter(sum, zw)
	walk := func() error {
		files, err = writeTar(tarCount, src.Dir)
		return err
	}
	if src.ReadAs != nil {
		err = fsuser.Do(*src.ReadAs, walk)
	} else {
		err = walk()
	}
	if err != nil {
		zw.Close()
		return files, err
	}
	if err := zw.Close(); err != nil {
		return files, fmt.Errorf("zstd: %w", err)
	}
	if err := enc.Close(); err != nil {
		return files, fmt.Errorf("age: %w", err)
	}
	return files, nil
}
