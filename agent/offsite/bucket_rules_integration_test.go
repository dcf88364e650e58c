//go:build integration

package offsite

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
)

// With a put-only key kab leaves retention to the bucket (README, "Put-only keys"). This proves
// the README's SeaweedFS recipe on a real server: after the one `weed shell` command, every
// object kab uploads with that key — the multipart data object and its manifest — carries the
// TTL, so the bucket expires the copies kab may not delete.
func TestBucketTTLExpiresPutOnlyCopies(t *testing.T) {
	w := startWeed(t)
	const readmeCommand = "fs.configure -locationPrefix=/buckets/kab/ -ttl=90d -apply" // as in README.md
	out, err := w.Shell(readmeCommand)
	if err != nil || !regexp.MustCompile(`"ttl":\s*"90d"`).MatchString(out) {
		t.Fatalf("weed shell %q: %v\n%s", readmeCommand, err, out)
	}
	keys := newKeys(t)
	putOnly := storeFor(t, w, putOnlyKey, putOnlySecret, keys, false)
	src := t.TempDir()
	writeTree(t, src, 3*PartSize/2) // more than one part: a real multipart upload
	m, err := putOnly.Upload(context.Background(), Source{Dir: src, Stamp: stamp(0), Mode: ModeSnapshot})
	if err != nil {
		t.Fatalf("upload with the put-only key: %v", err)
	}
	for _, name := range []string{m.Object, putOnly.ManifestObject(stamp(0))} {
		if got, want := filerTTL(t, w, name), int64(90*24*3600); got != want {
			t.Errorf("%s: TTL %d s in the filer, want %d (90 days)", name, got, want)
		}
	}
}

// filerTTL reads an object's TTL (seconds; 0 = none) from SeaweedFS's filer.
func filerTTL(t *testing.T, w *weed, object string) int64 {
	t.Helper()
	resp, err := http.Get(w.FilerURL() + "/buckets/" + testBucket + "/" + object + "?metadata=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("filer metadata of %s: %s", object, resp.Status)
	}
	var entry struct{ TtlSec int64 }
	if err := json.NewDecoder(resp.Body).Decode(&entry); err != nil {
		t.Fatalf("filer metadata of %s: %v", object, err)
	}
	return entry.TtlSec
}
