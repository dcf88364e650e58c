package backup

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/boanu/kab/agent/target"
)

// The agent container's own memory cgroup, as the runtime mounts it: cgroup v2 (a cgroup
// namespace) or v1's memory hierarchy. The backup command runs in this cgroup (DESIGN §13), so
// its memory limit is the agent's, and so is the kernel's count of OOM kills.
type memoryCgroup struct{ events, limitFile string }

var memoryCgroups = []memoryCgroup{
	{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory.max"},
	{"/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
}

// oomCounter reads how many processes the OOM killer has killed in the agent's cgroup, and
// which cgroup files said so: read before and after a run, a rise means the command (or a
// child) was OOM-killed — otherwise indistinguishable from any other SIGKILL. ok is false
// where no cgroup file is readable. It is read right before each command starts, so it reads
// only the count (the limit is read once an OOM kill is seen).
func oomCounter() (kills uint64, cg memoryCgroup, ok bool) {
	for _, cg := range memoryCgroups {
		raw, err := target.ReadKernelFile(cg.events)
		if err != nil {
			continue
		}
		if kills, ok = parseOOMKills(raw); ok {
			return kills, cg, true
		}
	}
	return 0, memoryCgroup{}, false
}

// limit is the cgroup's memory limit for a message, "unknown" when unreadable.
func (cg memoryCgroup) limit() string {
	v, err := target.ReadKernelFile(cg.limitFile)
	if err != nil {
		return "unknown"
	}
	return humanLimit(strings.TrimSpace(string(v)))
}

// parseOOMKills finds the "oom_kill N" line that both memory.events and memory.oom_control have.
func parseOOMKills(raw []byte) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), "oom_kill "); found {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// humanLimit prints a cgroup memory limit ("max", or bytes; v1 shows "no limit" as a huge
// number) in MiB.
func humanLimit(v string) string {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n >= 1<<62 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

// errOOMKilled says what happened and what to change.
func errOOMKilled(limit string) error {
	return fmt.Errorf("the backup command was OOM-killed: it runs in the kab-agent container's memory cgroup (limit %s), "+
		"which it outgrew; raise agentResources.limits.memory in the injector's config", limit)
}

// oomKilledSince reports whether the OOM killer struck in the agent's cgroup since before.
func oomKilledSince(before uint64) bool {
	now, _, ok := oomCounter()
	return ok && now > before
}
