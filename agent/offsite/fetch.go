package offsite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"
)

// ErrChecksum is wrapped when what was decrypted does not match its manifest's sha256.
var ErrChecksum = errors.New("sha256 mismatch")

// ErrWrongIdentity is wrapped when the Secret's identity matches none of a copy's recipients:
// a local mistake that no retry fixes.
var ErrWrongIdentity = errors.New("wrong age identity")

// Copy is one remote backup: its stamp and whether its data object and manifest exist.
type Copy struct {
	Stamp       string
	HasData     bool
	HasManifest bool
	DataBytes   int64
}

// List returns the copies in the backup's folder, newest first.
func (s *Store) List(ctx context.Context) ([]Copy, error) {
	byStamp := map[string]*Copy{}
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.dir}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s: %w", s.Where(), obj.Err)
		}
		stamp, isData := s.stampOf(obj.Key, dataSuffix), true
		if stamp == "" {
			stamp, isData = s.stampOf(obj.Key, manifestSuffix), false
		}
		if stamp == "" {
			continue // not ours: left alone
		}
		c := byStamp[stamp]
		if c == nil {
			c = &Copy{Stamp: stamp}
			byStamp[stamp] = c
		}
		if isData {
			c.HasData, c.DataBytes = true, obj.Size
		} else {
			c.HasManifest = true
		}
	}
	copies := make([]Copy, 0, len(byStamp))
	for _, c := range byStamp {
		copies = append(copies, *c)
	}
	sort.Slice(copies, func(i, j int) bool { return copies[i].Stamp > copies[j].Stamp })
	return copies, nil
}

// Manifest reads and checks stamp's manifest.
func (s *Store) Manifest(ctx context.Context, stamp string) (Manifest, error) {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.ManifestObject(stamp), minio.GetObjectOptions{})
	if err != nil {
		return Manifest{}, fmt.Errorf("get %s from %s: %w", s.ManifestObject(stamp), s.Where(), err)
	}
	defer obj.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(obj, 1<<20)).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("read %s from %s: %w", s.ManifestObject(stamp), s.Where(), err)
	}
	if err := m.check(stamp, s.DataObject(stamp)); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", s.ManifestObject(stamp), err)
	}
	return m, nil
}

// Newest returns the newest copy whose data object exists and whose manifest checks out, and
// the problems of the newer ones it passed over; ok is false when there is none.
func (s *Store) Newest(ctx context.Context) (m Manifest, ok bool, skipped []error, err error) {
	copies, err := s.List(ctx)
	if err != nil {
		return Manifest{}, false, nil, err
	}
	for _, c := range copies {
		if !c.HasData || !c.HasManifest {
			skipped = append(skipped, fmt.Errorf("%s: incomplete (data %t, manifest %t)", c.Stamp, c.HasData, c.HasManifest))
			continue
		}
		m, err := s.Manifest(ctx, c.Stamp)
		if err != nil {
			if isNetwork(err) {
				return Manifest{}, false, skipped, err
			}
			skipped = append(skipped, err)
			continue
		}
		return m, true, skipped, nil
	}
	return Manifest{}, false, skipped, nil
}

// Download streams m's object → age → zstd → tar into dir (existing, empty), checking the
// sha256 of the tar against the manifest. On an error dir holds a partial tree: the caller
// unpacks into a temporary folder and only renames it into place after success.
func (s *Store) Download(ctx context.Context, m Manifest, identities []age.Identity, dir string) (files int, err error) {
	if len(identities) == 0 {
		return 0, ErrNoIdentity
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, m.Object, minio.GetObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("get %s from %s: %w", m.Object, s.Where(), err)
	}
	defer obj.Close()
	plain, err := age.Decrypt(obj, identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return 0, fmt.Errorf("%w: offsite Secret %q: key %q cannot decrypt %s (it was encrypted to other recipients); give the age identity whose public key was in %q when the copy was made: %w",
				ErrWrongIdentity, s.cfg.Secret, KeyIdentity, m.Object, KeyRecipients, err)
		}
		return 0, fmt.Errorf("decrypt %s from %s: %w", m.Object, s.Where(), err)
	}
	zr, err := zstd.NewReader(plain, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	sum := sha256.New()
	tarBytes := &counter{w: sum}
	tee := io.TeeReader(zr, tarBytes)
	if files, err = unpackTar(tee, dir); err != nil {
		return files, fmt.Errorf("unpack %s: %w", m.Object, err)
	}
	// The tar reader stops at the end marker; the hash covers the whole stream, padding too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return files, fmt.Errorf("read %s: %w", m.Object, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != m.SHA256 || tarBytes.n != m.TarBytes {
		return files, fmt.Errorf("%w: %s decrypts to %d bytes with sha256 %s, its manifest says %d bytes with %s; refusing to restore it",
			ErrChecksum, m.Object, tarBytes.n, got, m.TarBytes, m.SHA256)
	}
	return files, nil
}
