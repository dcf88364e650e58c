// Package target finds the app container's main process in the pod's shared PID namespace.
package target

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/boanu/kab/agent/fsuser"
)

// Process identifies one process for its whole life: a pid alone can be reused after the
// container restarts, pid + start time cannot.
type Process struct {
	PID       int
	StartTime uint64 // field 22 of /proc/<pid>/stat, clock ticks after boot
	PPID      int
	PGID      int
	State     byte
	UID       uint32
	GID       uint32
	Groups    []uint32
}

// IDs is the uid/gid to take on when touching the process's /proc entries or its files.
func (p Process) IDs() fsuser.IDs { return fsuser.IDs{UID: p.UID, GID: p.GID} }

// Same reports whether q is the same process as p (not a later one with the same pid).
func (p Process) Same(q Process) bool { return p.PID == q.PID && p.StartTime == q.StartTime }

// ErrGone is returned when the process no longer exists.
var ErrGone = errors.New("process is gone")

// Stat is what /proc/<pid>/stat says; it is readable for every process without privileges.
type Stat struct {
	PID       int
	State     byte
	PPID      int
	PGID      int
	StartTime uint64
}

// ReadStat parses /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	raw, err := ReadKernelFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errESRCH) {
			return Stat{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
		}
		return Stat{}, err
	}
	return parseStat(pid, raw)
}

// parseStat reads the fields after the command name, which is in parentheses and may itself
// contain spaces and parentheses: the last ')' ends it.
func parseStat(pid int, raw []byte) (Stat, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return Stat{}, fmt.Errorf("pid %d: malformed stat", pid)
	}
	fields := strings.Fields(string(raw[end+1:]))
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return Stat{}, fmt.Errorf("pid %d: short stat", pid)
	}
	ppid, err1 := strconv.Atoi(fields[1])
	pgid, err2 := strconv.Atoi(fields[2])
	start, err3 := strconv.ParseUint(fields[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Stat{}, fmt.Errorf("pid %d: stat: %w", pid, err)
	}
	return Stat{PID: pid, State: fields[0][0], PPID: ppid, PGID: pgid, StartTime: start}, nil
}

// Read returns the process's identity and credentials from /proc/<pid>/stat and status.
func Read(pid int) (Process, error) {
	st, err := ReadStat(pid)
	if err != nil {
		return Process{}, err
	}
	raw, err := ReadKernelFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	p := Process{PID: pid, StartTime: st.StartTime, PPID: st.PPID, PGID: st.PGID, State: st.State}
	uids, gids, groups, err := parseStatusIDs(raw)
	if err != nil {
		return Process{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if !allEqual(uids) || !allEqual(gids) {
		// Real, effective and saved ids differ (a setuid program): /proc/<pid>/environ is then
		// out of reach without CAP_SYS_PTRACE, and a container's main process is never like that.
		return Process{}, fmt.Errorf("pid %d: %w", pid, errMixedIDs)
	}
	p.UID, p.GID, p.Groups = uids[0], gids[0], groups
	return p, nil
}

var errMixedIDs = errors.New("real, effective and saved ids differ")

// parseStatusIDs reads the Uid, Gid (real, effective, saved, fs) and Groups lines.
func parseStatusIDs(raw []byte) (uids, gids, groups []uint32, err error) {
	for line := range strings.SplitSeq(string(raw), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch key {
		case "Uid":
			uids, err = parseIDList(value)
		case "Gid":
			gids, err = parseIDList(value)
		case "Groups":
			groups, err = parseIDList(value)
		}
		if err != nil {
			return nil, nil, nil, err
		}
	}
	if len(uids) < 3 || len(gids) < 3 {
		return nil, nil, nil, errors.New("status has no Uid/Gid lines")
	}
	return uids[:3], gids[:3], groups, nil
}

func parseIDList(s string) ([]uint32, error) {
	var ids []uint32
	for f := range strings.FieldsSeq(s) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad id %q: %w", f, err)
		}
		ids = append(ids, uint32(n))
	}
	return ids, nil
}

func allEqual(ids []uint32) bool {
	for _, id := range ids {
		if id != ids[0] {
			return false
		}
	}
	return true
}

// Pids lists the numeric entries of /proc.
func Pids() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
