package offsite

import (
	"encoding/json"
	"fmt"
	"time"
)

// StampLayout matches agent/snapshot's: the UTC start time of the run, sorting by name = by time.
const StampLayout = "20060102T150405.000Z"

func isStamp(s string) bool {
	_, err := time.Parse(StampLayout, s)
	return err == nil
}

// Manifest is <stamp>.json: plaintext facts about <stamp>.tar.zst.age, written after it, so a
// manifest marks a complete upload and restore can check what it decrypted.
type Manifest struct {
	Stamp           string    `json:"stamp"`
	Object          string    `json:"object"` // the encrypted tar's object name
	SHA256          string    `json:"sha256"` // of the plaintext tar
	TarBytes        int64     `json:"tarBytes"`
	CompressedBytes int64     `json:"compressedBytes"` // zstd output, before age
	EncryptedBytes  int64     `json:"encryptedBytes"`
	Files           int       `json:"files"`
	Mode            string    `json:"mode"` // "snapshot" or "seed": how to lay it out on restore
	KabVersion      string    `json:"kabVersion"`
	Pod             string    `json:"pod"`
	Uploaded        time.Time `json:"uploaded"`
}

// Layouts a manifest records.
const (
	ModeSnapshot = "snapshot"
	ModeSeed     = "seed"
)

// check is what "the manifest checks out" means: it parses, names its own stamp and object,
// and has a hash to verify against.
func (m *Manifest) check(stamp, object string) error {
	switch {
	case m.Stamp != stamp:
		return fmt.Errorf("manifest names stamp %q, its object name says %q", m.Stamp, stamp)
	case m.Object != object:
		return fmt.Errorf("manifest names object %q, expected %q", m.Object, object)
	case len(m.SHA256) != 64:
		return fmt.Errorf("manifest has no sha256")
	case m.Mode != ModeSnapshot && m.Mode != ModeSeed:
		return fmt.Errorf("manifest mode %q is neither %q nor %q", m.Mode, ModeSnapshot, ModeSeed)
	}
	return nil
}

func (m *Manifest) encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}
