// Package s3server runs a real SeaweedFS `weed server -s3` on loopback for kab's tests: the S3
// server the offsite copies are proven against (never an emulator). The binary comes from
// e2e/lib/build-seaweedfs.sh through KAB_WEED_BIN_DIR; without it the tests fail, never skip.
package s3server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The S3 identities the test server enforces: admin may do everything; putonly may write and
// read but a policy denies deletes, as a cautious user would set up kab's key.
const (
	Bucket         = "kab"
	AdminKey       = "kabadmin"
	AdminSecret    = "kabadmin-secret-key"
	PutOnlyKey     = "kabputonly"
	PutOnlySecret  = "kabputonly-secret-key"
	weedStartLimit = 3 * time.Minute
)

// weed is a real SeaweedFS `weed server -s3` on loopback, built by e2e/lib/build-seaweedfs.sh.
type Server struct {
	t       testing.TB
	bin     string
	dataDir string
	ports   map[string]int
	config  string
	log     *os.File
	cmd     *exec.Cmd
}

// Start starts the server and a bucket. It fails (never skips) without KAB_WEED_BIN_DIR.
func Start(t testing.TB) *Server {
	t.Helper()
	binDir := os.Getenv("KAB_WEED_BIN_DIR")
	if binDir == "" {
		t.Fatal("KAB_WEED_BIN_DIR is not set: run `make test-integration` (it builds SeaweedFS with e2e/lib/build-seaweedfs.sh)")
	}
	dir := t.TempDir()
	w := &Server{t: t, bin: filepath.Join(binDir, "weed"), dataDir: filepath.Join(dir, "data"), ports: map[string]int{}}
	if err := os.Mkdir(w.dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
		"filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc"} {
		w.ports[name] = freePort(t)
	}
	w.config = filepath.Join(dir, "s3.json")
	writeS3Config(t, w.config)
	logFile, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		t.Fatal(err)
	}
	w.log = logFile
	t.Cleanup(func() {
		w.Stop()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("weed log tail:\n%s", b)
		}
	})
	w.start()
	ctx, cancel := context.WithTimeout(context.Background(), weedStartLimit)
	defer cancel()
	admin := w.Client(AdminKey, AdminSecret)
	for {
		err := admin.MakeBucket(ctx, Bucket, minio.MakeBucketOptions{})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("weed did not serve S3 on %s within %s: %v", w.Endpoint(), weedStartLimit, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return w
}

func (w *Server) start() {
	w.t.Helper()
	// 400 volumes of 64 MB: the benchmark writes several GiB, and space overwritten or deleted
	// comes back only after a vacuum. Volumes are created as needed, so little is used.
	args := []string{"server", "-s3", "-dir", w.dataDir, "-ip", "127.0.0.1", "-ip.bind", "127.0.0.1",
		"-s3.config", w.config, "-master.volumeSizeLimitMB", "64", "-volume.max", "400"}
	for name, port := range w.ports {
		args = append(args, "-"+name, strconv.Itoa(port))
	}
	w.cmd = exec.Command(w.bin, args...)
	w.cmd.Stdout, w.cmd.Stderr = w.log, w.log
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		w.t.Fatalf("start weed: %v", err)
	}
}

// Stop kills the server (SIGKILL: a crash, not a polite shutdown) and waits for it.
func (w *Server) Stop() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	_ = w.cmd.Wait()
	w.cmd = nil
}

// Restart brings the server back on the same ports and data, and waits until S3 answers.
func (w *Server) Restart() {
	w.t.Helper()
	w.Stop()
	w.start()
	ctx, cancel := context.WithTimeout(context.Background(), weedStartLimit)
	defer cancel()
	admin := w.Client(AdminKey, AdminSecret)
	for {
		if _, err := admin.BucketExists(ctx, Bucket); err == nil {
			return
		} else if ctx.Err() != nil {
			w.t.Fatalf("weed did not come back on %s: %v", w.Endpoint(), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (w *Server) Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", w.ports["s3.port"]) }

// FilerURL is the filer's HTTP API, where a bucket's objects are /buckets/<bucket>/<key>.
func (w *Server) FilerURL() string { return fmt.Sprintf("http://127.0.0.1:%d", w.ports["filer.port"]) }

// Shell runs SeaweedFS admin commands (`weed shell`, one a line, as an operator types them)
// against the server and returns their output.
func (w *Server) Shell(commands string) (string, error) {
	// host:port.grpcPort: the gRPC ports are not SeaweedFS's default port+10000 here.
	cmd := exec.Command(w.bin, "shell",
		"-master", fmt.Sprintf("127.0.0.1:%d.%d", w.ports["master.port"], w.ports["master.port.grpc"]),
		"-filer", fmt.Sprintf("127.0.0.1:%d.%d", w.ports["filer.port"], w.ports["filer.port.grpc"]))
	cmd.Stdin = strings.NewReader(commands + "\nexit\n")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *Server) Client(key, secret string) *minio.Client {
	w.t.Helper()
	c, err := minio.New(w.Endpoint(), &minio.Options{Creds: credentials.NewStaticV4(key, secret, ""), Region: "us-east-1"})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeS3Config writes SeaweedFS's static identities: keys are enforced, and putonly's policy
// denies deletes (SeaweedFS's plain "Write" action would allow them).
func writeS3Config(t testing.TB, path string) {
	t.Helper()
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Effect": "Allow", "Action": []string{"s3:PutObject", "s3:GetObject", "s3:ListBucket",
				"s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload",
				"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
				"Resource": []string{"arn:aws:s3:::" + Bucket, "arn:aws:s3:::" + Bucket + "/*"}},
			{"Effect": "Deny", "Action": []string{"s3:DeleteObject"}, "Resource": []string{"arn:aws:s3:::" + Bucket + "/*"}},
		},
	}
	policyJSON, _ := json.Marshal(policy)
	cfg := map[string]any{
		"identities": []map[string]any{
			{"name": "admin", "credentials": []map[string]string{{"accessKey": AdminKey, "secretKey": AdminSecret}},
				"actions": []string{"Admin", "Read", "List", "Tagging", "Write"}},
			{"name": "putonly", "credentials": []map[string]string{{"accessKey": PutOnlyKey, "secretKey": PutOnlySecret}},
				"policyNames": []string{"kab-put-only"}},
		},
		"policies": []map[string]string{{"name": "kab-put-only", "content": string(policyJSON)}},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
