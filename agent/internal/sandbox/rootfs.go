// Package sandbox builds what the agent's tests run against: an "app container" (a busybox
// root file system pivot_root'ed into in its own mount namespace, with the backup folder bound
// at /kab-backup) and the kab-agent binary run in another mount namespace with only the
// capabilities the injector gives it. The test binary re-executes itself for the parts that must
// happen in the new process (mounts, pivot_root, capability drop); call Main from TestMain.
package sandbox

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// applets are the busybox programs the test apps and backup scripts use.
var applets = []string{
	"sh", "cat", "cp", "tar", "sleep", "id", "ls", "mkdir", "echo", "env", "pwd", "setsid",
	"touch", "rm", "stat", "true", "false", "test", "wc", "grep", "head", "printf", "kill", "ps",
	"dd", "mv", "chmod", "readlink",
}

// Busybox returns the path of a statically linked busybox, or fails the test: the agent's
// tests need real processes in a real root file system.
func Busybox(t testing.TB) string {
	t.Helper()
	for _, candidate := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if isStatic(candidate) {
			return candidate
		}
	}
	if p, err := exec.LookPath("busybox"); err == nil && isStatic(p) {
		return p
	}
	t.Fatal("no statically linked busybox found: the agent's tests build app root file systems from it; run `apt-get install busybox-static`")
	return ""
}

func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// BuildRootfs makes an app root file system under dir: busybox with its applets in /bin, an
// empty /kab-backup mount point, /proc, /dev, /tmp, and files (path inside the root → content)
// owned by uid:gid.
func BuildRootfs(t testing.TB, dir string, files map[string]string, uid, gid int) {
	t.Helper()
	bb := Busybox(t)
	for _, d := range []string{"bin", "data", "kab-backup", "proc", "dev", "tmp", "etc"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	must(t, os.Chmod(filepath.Join(dir, "tmp"), 0o1777))
	must(t, os.WriteFile(filepath.Join(dir, "dev", "null"), nil, 0o666))
	data, err := os.ReadFile(bb)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755))
	for _, a := range applets {
		must(t, os.Symlink("busybox", filepath.Join(dir, "bin", a)))
	}
	must(t, os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\napp:x:1000:1000:app:/data:/bin/sh\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "etc", "group"), []byte("root:x:0:\napp:x:1000:\nextra:x:2000:app\n"), 0o644))
	for name, content := range files {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
		must(t, os.Chown(p, uid, gid))
	}
	must(t, os.Chown(filepath.Join(dir, "data"), uid, gid))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
