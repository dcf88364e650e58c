package fsuser_test

import (
	"testing"

	"github.com/boanu/kab/agent/fsuser"
)

// BenchmarkDo is the cost of one switch to the app's ids and back around an empty fn: it is
// paid twice between a backup trigger and the command's start.
func BenchmarkDo(b *testing.B) {
	for b.Loop() {
		if err := fsuser.Do(fsuser.IDs{UID: 1000, GID: 1000}, func() error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
