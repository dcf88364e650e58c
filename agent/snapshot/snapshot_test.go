package snapshot_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/snapshot"
	"github.com/boanu/kab/shared"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var app = fsuser.IDs{UID: 1000, GID: 1000}

func appFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(openTempDir(t), "backup")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	return dir
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestStampSortsByTime(t *testing.T) {
	a := snapshot.Stamp(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600)))
	if a != "20260102T020405.006Z" {
		t.Errorf("stamp %q", a)
	}
	if b := snapshot.Stamp(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)); !(a < b) {
		t.Errorf("%q does not sort before %q", a, b)
	}
}

// The lifecycle as the app's ids: commit moves latest, abort removes the folder and leaves
// latest alone, prune keeps the newest N, stale partials go. Everything belongs to the app.
func TestLifecycle(t *testing.T) {
	dir := appFolder(t)
	s := snapshot.Store{Dir: dir, IDs: app}
	stamps := []string{"20260101T000000.000Z", "20260102T000000.000Z", "20260103T000000.000Z", "20260104T000000.000Z"}
	for i, st := range stamps {
		if err := s.Begin(st); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, snapshot.PartialPath(st), "dump"), []byte(st), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := s.Abort(st); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := s.Commit(st); err != nil {
			t.Fatal(err)
		}
		if link, _ := os.Readlink(filepath.Join(dir, "latest")); link != "snapshots/"+st {
			t.Errorf("latest -> %q, want snapshots/%s", link, st)
		}
	}
	pruned, err := s.Prune(shared.KeepPolicy{Last: 2}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if pruned.Remaining != 2 || !slices.Equal(pruned.Removed, stamps[:1]) {
		t.Errorf("prune: remaining %d removed %v", pruned.Remaining, pruned.Removed)
	}
	if got, want := names(t, dir), []string{stamps[1], stamps[3]}; !slices.Equal(got, want) {
		t.Errorf("snapshots %v, want %v", got, want)
	}
	var lst os.FileInfo
	if lst, err = os.Lstat(filepath.Join(dir, "latest")); err != nil || lst.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("latest is not a link: %v", err)
	}

	if err := s.Begin("20260105T000000.000Z"); err != nil { // as if the agent was killed now
		t.Fatal(err)
	}
	removedStale, err := s.RemoveStale()
	if err != nil || len(removedStale) != 1 {
		t.Errorf("stale removal: %v %v", removedStale, err)
	}
	if n, err := s.Count(); err != nil || n != 2 {
		t.Errorf("count %d %v", n, err)
	}
	size, err := snapshot.Size(dir, app)
	if err != nil || size != int64(2*len(stamps[0])) {
		t.Errorf("size %d %v, want %d (links not followed)", size, err, 2*len(stamps[0]))
	}
}

// The housekeeping really runs as the app: in a folder the app may not write, it fails.
func TestHousekeepingActsAsTheApp(t *testing.T) {
	dir := openTempDir(t) // root's
	err := snapshot.Store{Dir: dir, IDs: app}.Begin("20260101T000000.000Z")
	if !errors.Is(err, os.ErrPermission) {
		t.Errorf("Begin in a root-owned folder as uid 1000: %v, want permission denied", err)
	}
}

// openTempDir is a temporary folder that other users may traverse (t.TempDir's are 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Prune never removes the snapshot latest points to, even when the policy would (a clock that
// jumped back makes an older-named snapshot the newest good one).
func TestPruneKeepsLatest(t *testing.T) {
	dir := appFolder(t)
	s := snapshot.Store{Dir: dir, IDs: app}
	stamps := []string{"20260101T000000.000Z", "20260102T000000.000Z", "20260103T000000.000Z"}
	for _, st := range []string{stamps[2], stamps[1], stamps[0]} { // latest ends on the oldest
		if err := s.Begin(st); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(st); err != nil {
			t.Fatal(err)
		}
	}
	pruned, err := s.Prune(shared.KeepPolicy{Last: 1}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pruned.Removed, stamps[1:2]) || pruned.Remaining != 2 {
		t.Errorf("removed %v (remaining %d), want only %s removed", pruned.Removed, pruned.Remaining, stamps[1])
	}
	if got, want := names(t, dir), []string{stamps[0], stamps[2]}; !slices.Equal(got, want) {
		t.Errorf("snapshots %v, want %v", got, want)
	}
}
