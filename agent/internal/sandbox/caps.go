package sandbox

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Capability sets, as the injector derives them (DESIGN.md §6).
var (
	// AgentCapsForNonRootApp is the agent's set for an app that drops ALL capabilities.
	AgentCapsForNonRootApp = []int{unix.CAP_CHOWN, unix.CAP_SYS_CHROOT, unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_KILL}
	// RuntimeDefaultCaps is what container runtimes (Docker, containerd) grant by default.
	RuntimeDefaultCaps = []int{
		unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID, unix.CAP_FOWNER, unix.CAP_MKNOD,
		unix.CAP_NET_RAW, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETFCAP, unix.CAP_SETPCAP,
		unix.CAP_NET_BIND_SERVICE, unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE,
	}
)

// Union is the set of capabilities in any of the sets.
func Union(sets ...[]int) []int {
	seen := map[int]bool{}
	var out []int
	for _, s := range sets {
		for _, c := range s {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

func capsString(caps []int) string {
	if caps == nil {
		return "all"
	}
	parts := make([]string, len(caps))
	for i, c := range caps {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}
