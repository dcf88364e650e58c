//go:build integration

package offsite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boanu/kab/agent/internal/s3server"
)

type weed = s3server.Server

const (
	testBucket    = s3server.Bucket
	adminKey      = s3server.AdminKey
	adminSecret   = s3server.AdminSecret
	putOnlyKey    = s3server.PutOnlyKey
	putOnlySecret = s3server.PutOnlySecret
)

func startWeed(t *testing.T) *weed { return s3server.Start(t) }

// secretDir writes an offsite Secret as the kubelet mounts it: one file per key.
func secretDir(t *testing.T, values map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range values {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// storeFor opens the test backup's place in the bucket with the given S3 key.
func storeFor(t *testing.T, w *weed, key, secret string, k testKeys, withIdentity bool) *Store {
	t.Helper()
	values := map[string]string{
		KeyEndpoint: "http://" + w.Endpoint(), KeyBucket: testBucket, KeyAccessKeyID: key,
		KeySecretAccessKey: secret, KeyPrefix: "/home-lab/", KeyRecipients: "# kab test\n" + k.recipient + "\n",
	}
	if withIdentity {
		values[KeyIdentity] = k.identity
	}
	cfg, err := Load(secretDir(t, values), "kab-offsite", withIdentity)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg, "apps", "notes")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.DataObject("x"), "home-lab/apps/notes/") {
		t.Fatalf("object layout: %s", s.DataObject("x"))
	}
	return s
}
