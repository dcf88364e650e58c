package target

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/boanu/kab/agent/fsuser"
)

// ErrNotFound is returned when no process carries the marker.
var ErrNotFound = errors.New("target not found")

// Finder looks for the app container's processes by the marker the injector puts into the
// app container's env (KAB_CONTAINER=<name>).
type Finder struct {
	// Marker is the container name; processes whose environ holds KAB_CONTAINER=<Marker> match.
	Marker string
	// Self is the agent's pid. It and its descendants are never the target: the agent's own
	// config holds the same string, and its backup commands inherit the app's env.
	Self int
}

// Find returns the app's main process: among the processes with the marker, the one with
// PPid 0 (a container's first process), else the oldest.
func (f Finder) Find() (Process, error) {
	stats, err := readAllStats()
	if err != nil {
		return Process{}, err
	}
	excluded := descendants(stats, f.Self)
	var candidates []Process
	for _, st := range stats {
		if excluded[st.PID] || st.State == 'Z' || st.State == 'X' {
			continue
		}
		p, err := Read(st.PID)
		if err != nil {
			continue // gone meanwhile, or out of reach: not a container's main process
		}
		candidates = append(candidates, p)
	}
	matches, err := withMarker(candidates, "KAB_CONTAINER="+f.Marker)
	if err != nil {
		return Process{}, err
	}
	if len(matches) == 0 {
		return Process{}, fmt.Errorf("%w: no process with KAB_CONTAINER=%s in its environment", ErrNotFound, f.Marker)
	}
	return Best(matches), nil
}

// Best ranks marker processes: PPid 0 first (in a pod's shared PID namespace the container's
// first process has its parent outside the namespace), then the oldest, then the lowest pid.
func Best(matches []Process) Process {
	return slices.MinFunc(matches, func(a, b Process) int {
		if (a.PPID == 0) != (b.PPID == 0) {
			if a.PPID == 0 {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), cmp.Compare(a.PID, b.PID))
	})
}

func readAllStats() ([]Stat, error) {
	pids, err := Pids()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	stats := make([]Stat, 0, len(pids))
	for _, pid := range pids {
		if st, err := ReadStat(pid); err == nil {
			stats = append(stats, st)
		}
	}
	return stats, nil
}

// descendants returns root and every process below it.
func descendants(stats []Stat, root int) map[int]bool {
	children := map[int][]int{}
	for _, st := range stats {
		children[st.PPID] = append(children[st.PPID], st.PID)
	}
	out := map[int]bool{}
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if out[pid] {
			continue
		}
		out[pid] = true
		queue = append(queue, children[pid]...)
	}
	return out
}

// withMarker keeps the processes whose environ holds the marker entry. Each environ is read on
// a thread switched to that process's uid/gid (one thread per distinct uid/gid pair), which
// the kernel requires when the agent lacks CAP_SYS_PTRACE.
func withMarker(candidates []Process, marker string) ([]Process, error) {
	byIDs := map[fsuser.IDs][]Process{}
	for _, p := range candidates {
		byIDs[p.IDs()] = append(byIDs[p.IDs()], p)
	}
	var matches []Process
	for ids, group := range byIDs {
		err := fsuser.Do(ids, func() error {
			for _, p := range group {
				env, err := ReadKernelFile(fmt.Sprintf("/proc/%d/environ", p.PID))
				if err != nil || !hasEntry(env, marker) {
					continue
				}
				if st, err := ReadStat(p.PID); err == nil && st.StartTime == p.StartTime {
					matches = append(matches, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return matches, nil
}

func hasEntry(environ []byte, entry string) bool {
	for e := range bytes.SplitSeq(environ, []byte{0}) {
		if string(e) == entry {
			return true
		}
	}
	return false
}
