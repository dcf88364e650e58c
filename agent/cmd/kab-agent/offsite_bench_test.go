//go:build integration

package main_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/offsite"
	"github.com/boanu/kab/agent/server"
)

// BenchmarkOffsiteUpload1GiB uploads a 1 GiB snapshot (random bytes: zstd's worst case) through
// a real agent to a real SeaweedFS, samples the agent's RSS meanwhile, then puts the same bytes
// as one plaintext tar with Debian's s3cmd to the same server, and prints both and the ratio.
// Timings are printed, never asserted. Run:
//
//	KAB_WEED_BIN_DIR=$(e2e/lib/build-seaweedfs.sh) go test -tags integration -run '^$' \
//	  -bench OffsiteUpload -benchtime 1x ./agent/cmd/kab-agent/
func BenchmarkOffsiteUpload1GiB(b *testing.B) {
	s3cmd, err := exec.LookPath("s3cmd")
	if err != nil {
		b.Fatal("s3cmd not found: run `make deps` (Debian's s3cmd)")
	}
	w := s3server.Start(b)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		volume := filepath.Join(b.TempDir(), "volume", "my-app")
		if err := os.MkdirAll(volume, 0o755); err != nil {
			b.Fatal(err)
		}
		app := sandbox.StartApp(b, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
		writeRandom(b, filepath.Join(app.Rootfs, "data", "big.bin"), 1<<30, 1000, 1000)
		secret := b.TempDir()
		for k, v := range map[string]string{"endpoint": "http://" + w.Endpoint(), "bucket": s3server.Bucket,
			"accessKeyID": s3server.AdminKey, "secretAccessKey": s3server.AdminSecret, "recipients": id.Recipient().String()} {
			if err := os.WriteFile(filepath.Join(secret, k), []byte(v), 0o400); err != nil {
				b.Fatal(err)
			}
		}
		agent := sandbox.StartAgent(b, sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
			SecretDir: secret, Env: agentEnv(`cp /data/big.bin "$KAB_BACKUP_DIR"/`,
				"KAB_BACKUP_KEEP=1", "KAB_OFFSITE=kab-offsite", "KAB_BACKUP_TIMEOUT=30m")})
		c, err := newClient(agent)
		if err != nil {
			b.Fatal(err)
		}
		code, body, err := c.BackupNow(context.Background())
		if err != nil || code != 202 {
			b.Fatalf("backup-now: %d %s %v", code, body, err)
		}
		var body2 struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &body2); err != nil {
			b.Fatal(err)
		}
		var maxRSS int64
		deadline := time.Now().Add(30 * time.Minute)
		var o offsite.Status
		for o.LastSuccess == nil {
			if time.Now().After(deadline) {
				b.Fatal("no offsite upload within 30 min")
			}
			maxRSS = max(maxRSS, rssKiB(agent.PID()))
			var st map[string]json.RawMessage
			if err := c.Status(context.Background(), &st); err != nil {
				b.Fatal(err)
			}
			_ = json.Unmarshal(st["offsite"], &o)
			if o.LastError != "" {
				b.Fatalf("upload failed: %s", o.LastError)
			}
			var runs []struct{ ID, Result, Error string }
			_ = json.Unmarshal(st["lastRuns"], &runs)
			for _, r := range runs {
				if r.ID == body2.ID && r.Result != "success" {
					b.Fatalf("the backup run ended %s: %s", r.Result, r.Error)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		text, err := scrape(agent)
		if err != nil {
			b.Fatal(err)
		}
		kabSeconds := metricSum(text, "kab_offsite_upload_duration_seconds_sum")
		hwm := statusKiB(agent.PID(), "VmHWM:")

		// The same bytes as one plaintext tar, put by s3cmd to the same server.
		tarFile := filepath.Join(b.TempDir(), "plain.tar")
		if out, err := exec.Command("tar", "-cf", tarFile, "-C", filepath.Join(volume, "latest")+"/", ".").CombinedOutput(); err != nil {
			b.Fatalf("tar: %v %s", err, out)
		}
		cfg := filepath.Join(b.TempDir(), "s3cfg")
		conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nsignature_v2 = False\n",
			s3server.AdminKey, s3server.AdminSecret, w.Endpoint(), w.Endpoint())
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if out, err := exec.Command(s3cmd, "-c", cfg, "--no-progress", "put", tarFile, "s3://"+s3server.Bucket+"/plain.tar").CombinedOutput(); err != nil {
			b.Fatalf("s3cmd put: %v\n%s", err, out)
		}
		s3cmdSeconds := time.Since(start).Seconds()
		fmt.Printf("offsite upload of 1 GiB (random): kab tar→zstd→age→S3 %.1f s, s3cmd put of the plaintext tar %.1f s, ratio %.2f; agent RSS max sampled %d KiB, VmHWM %d KiB\n",
			kabSeconds, s3cmdSeconds, kabSeconds/s3cmdSeconds, maxRSS, hwm)
		b.ReportMetric(kabSeconds, "kab-s")
		b.ReportMetric(s3cmdSeconds, "s3cmd-s")
		b.ReportMetric(float64(hwm)/1024, "agent-hwm-MiB")
	}
}

func newClient(a *sandbox.Agent) (*server.Client, error) { return server.NewClient(a.ControlAddr) }

func scrape(a *sandbox.Agent) (string, error) {
	resp, err := http.Get("http://" + a.MetricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// writeRandom writes n random bytes (incompressible: zstd's worst case) owned by uid:gid.
func writeRandom(b *testing.B, path string, n int64, uid, gid int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		b.Fatal(err)
	}
	if err := f.Chown(uid, gid); err != nil {
		b.Fatal(err)
	}
}

func rssKiB(pid int) int64 { return statusKiB(pid, "VmRSS:") }

func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func metricSum(text, series string) float64 {
	for l := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(l, series+"{") || strings.HasPrefix(l, series+" ") {
			f, _ := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64)
			return f
		}
	}
	return 0
}
