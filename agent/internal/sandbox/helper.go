package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment of the re-executed test binary: which part to play and its parameters.
const (
	envRole    = "KAB_SANDBOX_ROLE"
	envRootfs  = "KAB_SANDBOX_ROOTFS"
	envBackup  = "KAB_SANDBOX_BACKUP"
	envDir     = "KAB_SANDBOX_DIR"
	envUID     = "KAB_SANDBOX_UID"
	envGID     = "KAB_SANDBOX_GID"
	envGroups  = "KAB_SANDBOX_GROUPS"
	envCaps    = "KAB_SANDBOX_CAPS"
	envScript  = "KAB_SANDBOX_SCRIPT"
	envAppEnv  = "KAB_SANDBOX_APP_ENV"
	envBinary  = "KAB_SANDBOX_BINARY"
	envAgentFS = "KAB_SANDBOX_AGENT_ROOT"
	envArgs    = "KAB_SANDBOX_ARGS"
	envSecret  = "KAB_SANDBOX_SECRET"
)

// Main plays the sandbox role the test binary was re-executed for, and never returns then.
// Call it first thing in TestMain.
func Main() {
	switch os.Getenv(envRole) {
	case "":
		return
	case "app":
		fail(becomeApp())
	case "agent":
		fail(becomeAgent())
	default:
		fail(fmt.Errorf("unknown sandbox role %q", os.Getenv(envRole)))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sandbox:", err)
	os.Exit(111)
}

// becomeApp runs in a fresh mount namespace (the parent set Unshareflags): it makes the root
// file system the namespace's root with pivot_root — as container runtimes do, so that
// /proc/<pid>/cwd reads as the in-container path — binds the backup folder at /kab-backup and
// execs the app's shell as the app's user, keeping the pid the test knows.
func becomeApp() error {
	rootfs := os.Getenv(envRootfs)
	binds := []struct{ src, dst string }{
		{os.Getenv(envBackup), rootfs + "/kab-backup"},
		{"/dev/null", rootfs + "/dev/null"},
	}
	for _, b := range binds {
		if err := unix.Mount(b.src, b.dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", b.src, b.dst, err)
		}
	}
	if err := unix.Mount("proc", rootfs+"/proc", "proc", 0, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	if err := pivotInto(rootfs); err != nil {
		return err
	}
	if err := os.Chdir(os.Getenv(envDir)); err != nil {
		return err
	}
	runtime.LockOSThread() // the bounding set is per thread: drop it on the thread that execs
	if err := limitBoundingSet(os.Getenv(envCaps)); err != nil {
		return err
	}
	if uid := atoi(os.Getenv(envUID)); uid != 0 {
		if err := syscall.Setgroups(atois(os.Getenv(envGroups))); err != nil {
			return err
		}
		if err := syscall.Setgid(atoi(os.Getenv(envGID))); err != nil {
			return err
		}
		if err := syscall.Setuid(uid); err != nil {
			return err
		}
	}
	env := strings.Split(os.Getenv(envAppEnv), "\x1f")
	return syscall.Exec("/bin/sh", []string{"sh", "-c", os.Getenv(envScript)}, env)
}

// becomeAgent runs in a fresh mount namespace: it builds a root like a FROM scratch image (only
// the agent binary, plus /proc, /dev and the backup volume at /kab-backup), pivots into it,
// limits the capability bounding set to what the injector grants, sets no_new_privs
// (allowPrivilegeEscalation: false) and execs the agent: as uid 0 it then holds exactly those
// capabilities, as in the sidecar.
func becomeAgent() error {
	root := os.Getenv(envAgentFS)
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "mode=755"); err != nil {
		return fmt.Errorf("mount agent root: %w", err)
	}
	for _, d := range []string{"proc", "dev", "kab-backup"} {
		if err := os.Mkdir(root+"/"+d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(root+"/kab-agent", nil, 0o755); err != nil {
		return err
	}
	binds := []struct {
		src, dst string
		flags    uintptr
	}{
		{"/proc", root + "/proc", unix.MS_BIND | unix.MS_REC},
		{"/dev", root + "/dev", unix.MS_BIND | unix.MS_REC},
		{os.Getenv(envBackup), root + "/kab-backup", unix.MS_BIND},
		{os.Getenv(envBinary), root + "/kab-agent", unix.MS_BIND},
	}
	for _, b := range binds {
		if err := unix.Mount(b.src, b.dst, "", b.flags, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", b.src, b.dst, err)
		}
	}
	if secret := os.Getenv(envSecret); secret != "" {
		dst := root + "/var/run/kab/offsite"
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(secret, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", secret, dst, err)
		}
		// A bind mount is made writable; remount it read-only, as the kubelet's Secret volume is.
		if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", dst, err)
		}
	}
	if err := pivotInto(root); err != nil {
		return err
	}
	runtime.LockOSThread()
	if err := limitBoundingSet(os.Getenv(envCaps)); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	var env []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "KAB_") && !strings.HasPrefix(e, "KAB_SANDBOX_") {
			env = append(env, e)
		}
	}
	args := append([]string{"/kab-agent"}, strings.Fields(os.Getenv(envArgs))...)
	return syscall.Exec("/kab-agent", args, env)
}

// pivotInto makes dir the root of the mount namespace and detaches the old root.
func pivotInto(dir string) error {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on itself: %w", dir, err)
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
	// removes the old root without needing a put_old directory.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", dir, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return os.Chdir("/")
}

// limitBoundingSet drops every capability not in keep (comma-separated numbers; "all" keeps
// everything) from the calling thread's bounding set.
func limitBoundingSet(keep string) error {
	if keep == "all" || keep == "" {
		return nil
	}
	kept := map[int]bool{}
	for _, c := range atois(keep) {
		kept[int(c)] = true
	}
	raw, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return err
	}
	last := atoi(strings.TrimSpace(string(raw)))
	for c := 0; c <= last; c++ {
		if !kept[c] {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				return fmt.Errorf("drop capability %d: %w", c, err)
			}
		}
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atois(s string) []int {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f != "" {
			out = append(out, atoi(f))
		}
	}
	return out
}
