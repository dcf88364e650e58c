//go:build integration

package main_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/offsite"
)

// agentUploadRSSLimit is issue 13's bound on the agent while it uploads: it is a memory bound
// (what the agent's container limit must hold), not a timing, and the measured peak sits well
// below it (docs/PERFORMANCE.md, "Offsite upload").
const agentUploadRSSLimit = 64 << 20

// TestOffsiteUploadMemory backs up 2 GiB of mixed data (half random, half compressible text)
// twice through a real agent, uploads both runs to a real SeaweedFS, and reads the agent's peak
// resident set (VmHWM) afterwards: the one figure issue 13 bounds. It prints the peak so a run is a
// measurement too (go test -v shows it).
func TestOffsiteUploadMemory(t *testing.T) {
	w := s3server.Start(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	volume := backupFolder(t)
	app := sandbox.StartApp(t, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
	writeMixed(t, filepath.Join(app.Rootfs, "data", "mixed.bin"), 2<<30, 1000, 1000)
	agent := sandbox.StartAgent(t, sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
		SecretDir: offsiteSecret(t, "http://"+w.Endpoint(), id.Recipient().String()),
		Env: agentEnv(`cp /data/mixed.bin "$KAB_BACKUP_DIR"/`,
			"KAB_BACKUP_KEEP=1", "KAB_OFFSITE=kab-offsite", "KAB_BACKUP_TIMEOUT=30m")})

	// Where the memory goes: the process's anonymous and file-backed pages (the binary's text),
	// and the Go heap as the agent's own Go collector reports it.
	peak := map[string]float64{}
	polls := 0
	sample := func() {
		if polls++; polls%4 != 0 {
			return
		}
		peak["RssAnon"] = max(peak["RssAnon"], float64(statusKiB(agent.PID(), "RssAnon:"))/1024)
		peak["RssFile"] = max(peak["RssFile"], float64(statusKiB(agent.PID(), "RssFile:"))/1024)
		if text, err := scrape(agent); err == nil {
			for _, m := range []string{"go_memstats_heap_alloc_bytes", "go_memstats_next_gc_bytes", "go_memstats_sys_bytes"} {
				peak[m] = max(peak[m], metricSum(text, m)/(1<<20))
			}
		}
	}
	// Two runs: the second upload starts while the first one's buffers may still be held.
	first := waitUpload(t, agent, backupNow(t, agent), "", sample)
	o := waitUpload(t, agent, backupNow(t, agent), first.LastStamp, sample)
	hwm := statusKiB(agent.PID(), "VmHWM:")
	text, err := scrape(agent)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("offsite uploads of 2 GiB (1 GiB random + 1 GiB text), twice, %.1f s in all: agent VmHWM %.1f MiB; sampled peaks: RssAnon %.1f MiB, RssFile %.1f MiB, "+
		"Go heap_alloc %.1f MiB, next_gc %.1f MiB, sys %.1f MiB; stamp %s\n",
		metricSum(text, "kab_offsite_upload_duration_seconds_sum"), float64(hwm)/1024, peak["RssAnon"], peak["RssFile"],
		peak["go_memstats_heap_alloc_bytes"], peak["go_memstats_next_gc_bytes"], peak["go_memstats_sys_bytes"], o.LastStamp)
	if hwm == 0 {
		t.Fatalf("no VmHWM for the agent (pid %d)", agent.PID())
	}
	if hwm<<10 > agentUploadRSSLimit {
		t.Errorf("the agent's peak RSS while uploading 2 GiB is %.1f MiB; issue 13 bounds it at %d MiB", float64(hwm)/1024, agentUploadRSSLimit>>20)
	}
}

// waitUpload waits until the agent reports an offsite upload newer than after, failing on an
// upload error or a failed run; sample runs on every poll.
func waitUpload(t testing.TB, a *sandbox.Agent, runID, after string, sample func()) offsite.Status {
	t.Helper()
	c, err := newClient(a)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Minute) // a liveness guard, not a timing assertion
	for {
		if time.Now().After(deadline) {
			t.Fatal("no offsite upload within 30 min")
		}
		sample()
		var st map[string]json.RawMessage
		if err := c.Status(context.Background(), &st); err != nil {
			t.Fatal(err)
		}
		var o offsite.Status
		_ = json.Unmarshal(st["offsite"], &o)
		if o.LastError != "" {
			t.Fatalf("offsite upload failed: %s", o.LastError)
		}
		var runs []struct{ ID, Result, Error string }
		_ = json.Unmarshal(st["lastRuns"], &runs)
		for _, r := range runs {
			if r.ID == runID && r.Result != "success" {
				t.Fatalf("backup run %s ended %s: %s", runID, r.Result, r.Error)
			}
		}
		if o.LastSuccess != nil && o.LastStamp > after {
			return o
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeMixed writes n bytes owned by uid:gid in 1 MiB chunks, alternately random (zstd's worst
// case) and SQL-like text (compressible, as a dump is), so both zstd paths run.
func writeMixed(t testing.TB, path string, n int64, uid, gid int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	row := 0
	for i := int64(0); i*chunk < n; i++ {
		if i%2 == 0 {
			_, _ = rand.Read(buf)
		} else {
			text := buf[:0]
			for len(text) < chunk-256 { // a row is under 256 bytes: text stays within buf
				row++
				text = append(text, "INSERT INTO notes (id, owner, body) VALUES ("...)
				text = strconv.AppendInt(text, int64(row), 10)
				text = append(text, ", 'user"...)
				text = strconv.AppendInt(text, int64(row%97), 10)
				text = append(text, "', 'note number "...)
				text = strconv.AppendInt(text, int64(row*7919%100003), 10)
				text = append(text, " kept for the offsite copy');\n"...)
			}
			for len(text) < chunk {
				text = append(text, '\n')
			}
		}
		if _, err := f.Write(buf[:min(chunk, n-i*chunk)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Chown(uid, gid); err != nil {
		t.Fatal(err)
	}
}
