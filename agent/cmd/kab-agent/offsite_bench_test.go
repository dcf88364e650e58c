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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/boanu/kab/agent/internal/s3server"
	"github.com/boanu/kab/agent/internal/sandbox"
	"github.com/boanu/kab/agent/server"
)

// BenchmarkOffsiteUpload1GiB uploads a 1 GiB snapshot (random bytes: zstd's worst case, it
// compresses nothing) through a real agent to a real SeaweedFS, and puts the same bytes as one
// plaintext tar with Debian's s3cmd to the same server, interleaved for KAB_OFFSITE_BENCH_ROUNDS
// rounds (default 3); it prints min/median/max of both and the ratio of the medians. kab's time
// is the agent's own kab_offsite_upload_duration_seconds (tar → zstd → age → S3, manifest
// included); s3cmd's is its process, from start to exit. Timings are printed, never asserted.
// Run it with e2e/bench/offsite-vs-s3cmd.sh, or:
//
//	KAB_WEED_BIN_DIR=$(e2e/lib/build-seaweedfs.sh) go test -tags integration -run '^$' \
//	  -bench OffsiteUpload -benchtime 1x -timeout 60m ./agent/cmd/kab-agent/
func BenchmarkOffsiteUpload1GiB(b *testing.B) {
	s3cmd, err := exec.LookPath("s3cmd")
	if err != nil {
		b.Fatal("s3cmd not found: run `make deps` (Debian's s3cmd)")
	}
	rounds := 3
	if v := os.Getenv("KAB_OFFSITE_BENCH_ROUNDS"); v != "" {
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			b.Fatalf("KAB_OFFSITE_BENCH_ROUNDS=%q; want a number of rounds, e.g. 3", v)
		}
	}
	w := s3server.Start(b)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(b.TempDir(), "s3cfg")
	conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\nsignature_v2 = False\n",
		s3server.AdminKey, s3server.AdminSecret, w.Endpoint(), w.Endpoint())
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		volume := filepath.Join(b.TempDir(), "volume", "my-app")
		if err := os.MkdirAll(volume, 0o755); err != nil {
			b.Fatal(err)
		}
		app := sandbox.StartApp(b, sandbox.AppOptions{BackupDir: volume, UID: 1000, GID: 1000})
		writeRandom(b, filepath.Join(app.Rootfs, "data", "big.bin"), 1<<30, 1000, 1000)
		agent := sandbox.StartAgent(b, sandbox.AgentOptions{Binary: agentBinary, BackupDir: volume, Caps: sandbox.AgentCapsForNonRootApp,
			SecretDir: offsiteSecret(b, "http://"+w.Endpoint(), id.Recipient().String()),
			Env: agentEnv(`cp /data/big.bin "$KAB_BACKUP_DIR"/`,
				"KAB_BACKUP_KEEP=1", "KAB_OFFSITE=kab-offsite", "KAB_BACKUP_TIMEOUT=30m")})
		var kab, plain []float64
		var maxRSS int64
		last := ""
		for round := range rounds {
			before, err := scrape(agent)
			if err != nil {
				b.Fatal(err)
			}
			o := waitUpload(b, agent, startRun(b, agent), last, func() { maxRSS = max(maxRSS, rssKiB(agent.PID())) })
			last = o.LastStamp
			after, err := scrape(agent)
			if err != nil {
				b.Fatal(err)
			}
			kab = append(kab, metricSum(after, "kab_offsite_upload_duration_seconds_sum")-metricSum(before, "kab_offsite_upload_duration_seconds_sum"))

			// The same bytes as one plaintext tar (made outside the timing), put by s3cmd.
			tarFile := filepath.Join(b.TempDir(), "plain.tar")
			if out, err := exec.Command("tar", "-cf", tarFile, "-C", filepath.Join(volume, "latest")+"/", ".").CombinedOutput(); err != nil {
				b.Fatalf("tar: %v %s", err, out)
			}
			start := time.Now()
			if out, err := exec.Command(s3cmd, "-c", cfg, "--no-progress", "put", tarFile, "s3://"+s3server.Bucket+"/plain.tar").CombinedOutput(); err != nil {
				b.Fatalf("s3cmd put: %v\n%s", err, out)
			}
			plain = append(plain, time.Since(start).Seconds())
			_ = os.Remove(tarFile)
			fmt.Printf("round %d: kab %.1f s, s3cmd %.1f s\n", round+1, kab[round], plain[round])
		}
		hwm := statusKiB(agent.PID(), "VmHWM:")
		kMin, kMed, kMax := spread(kab)
		sMin, sMed, sMax := spread(plain)
		fmt.Printf("offsite upload of 1 GiB (random), n=%d interleaved: kab tar→zstd→age→S3 %.1f / %.1f / %.1f s, s3cmd put of the plaintext tar %.1f / %.1f / %.1f s (min / median / max), ratio of medians %.2f; agent VmHWM %.1f MiB, largest sampled VmRSS %.1f MiB\n",
			rounds, kMin, kMed, kMax, sMin, sMed, sMax, kMed/sMed, float64(hwm)/1024, float64(maxRSS)/1024)
		b.ReportMetric(kMed, "kab-s")
		b.ReportMetric(sMed, "s3cmd-s")
		b.ReportMetric(kMed/sMed, "ratio")
		b.ReportMetric(float64(hwm)/1024, "agent-hwm-MiB")
	}
}

// spread returns the min, median and max of xs.
func spread(xs []float64) (lo, median, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	median = s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], median, s[len(s)-1]
}

// startRun starts a backup run through the control API and returns its id.
func startRun(tb testing.TB, a *sandbox.Agent) string {
	tb.Helper()
	c, err := newClient(a)
	if err != nil {
		tb.Fatal(err)
	}
	code, body, err := c.BackupNow(context.Background())
	if err != nil || code != http.StatusAccepted {
		tb.Fatalf("POST /backup: %d %s %v", code, body, err)
	}
	var resp server.IDResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		tb.Fatal(err)
	}
	return resp.ID
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
