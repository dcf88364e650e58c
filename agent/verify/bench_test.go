package verify

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/boanu/kab/agent/fsuser"
)

// BenchmarkMeasure100kFiles walks a snapshot of 100,000 small files (100 folders of 1,000) and
// reports the walk's time as a ratio to `du -sb` of the same tree in the same run: the cost
// the emptiness and size check adds to every run, against the tool a user would reach for.
func BenchmarkMeasure100kFiles(b *testing.B) {
	du, err := exec.LookPath("du")
	if err != nil {
		b.Fatal("du not found (coreutils)")
	}
	dir := b.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 1000 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", f)), []byte("row\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	ids := fsuser.IDs{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	var walk, duTime time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		c, err := Measure(dir, ids, time.Time{})
		walk += time.Since(start)
		if err != nil || c.Files != 100_000 || c.Bytes != 400_000 {
			b.Fatalf("measured %+v, %v; want 100000 files of 400000 bytes", c, err)
		}
		start = time.Now()
		if out, err := exec.Command(du, "-sb", dir).CombinedOutput(); err != nil {
			b.Fatalf("du -sb: %v\n%s", err, out)
		}
		duTime += time.Since(start)
	}
	b.ReportMetric(walk.Seconds()/float64(b.N), "walk-s/op")
	b.ReportMetric(duTime.Seconds()/float64(b.N), "du-s/op")
	b.ReportMetric(walk.Seconds()/duTime.Seconds(), "walk/du")
}
