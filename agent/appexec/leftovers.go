package appexec

import (
	"errors"
	"os"
	"time"

	"github.com/boanu/kab/agent/target"
	"golang.org/x/sys/unix"
)

// killLeftovers kills what a finished command left behind: members of its process group, and
// processes re-parented to the agent (its subreaper role) that started after the command did —
// in the agent the only children are backup commands and their orphans, so these belong to the
// run. Killed children of the agent are reaped so they do not linger as zombies. It loops
// because killing a process re-parents its own children to the agent.
func killLeftovers(pgid int, since uint64) {
	self := os.Getpid()
	for range 100 {
		found := false
		pids, _ := target.Pids()
		for _, pid := range pids {
			st, err := target.ReadStat(pid)
			if err != nil {
				continue
			}
			ours := st.PPID == self && st.StartTime >= since
			if !ours && st.PGID != pgid {
				continue
			}
			if st.State == 'Z' && !ours {
				continue // its parent reaps it, or dies and hands it to us
			}
			found = true
			_ = unix.Kill(pid, unix.SIGKILL)
			if ours {
				reap(pid)
			}
		}
		if !found {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func reap(pid int) {
	for {
		_, err := unix.Wait4(pid, nil, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
