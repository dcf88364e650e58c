package backup

import (
	"fmt"

	"github.com/boanu/kab/agent/fsuser"
	"github.com/boanu/kab/agent/target"
	"golang.org/x/sys/unix"
)

// fileID is what makes two paths the same folder: device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(st unix.Stat_t) fileID { return fileID{dev: st.Dev, ino: st.Ino} }

// volumeID is the backup folder as the agent mounts it.
func volumeID(dir string) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fileID{}, fmt.Errorf("the agent's backup folder %s: %w", dir, err)
	}
	return idOf(st), nil
}

// appVolumeID is the backup folder as the app process sees it, read through its root on a
// thread switched to the app's ids (the kernel's access rule for /proc/<pid>/root).
func appVolumeID(p target.Process, dir string) (fileID, error) {
	var st unix.Stat_t
	err := fsuser.Do(p.IDs(), func() error {
		return unix.Stat(fmt.Sprintf("/proc/%d/root%s", p.PID, dir), &st)
	})
	if err != nil {
		return fileID{}, fmt.Errorf("%s in the app container: %w", dir, err)
	}
	return idOf(st), nil
}

// errNotTheVolume says what a device/inode mismatch means for the user.
func errNotTheVolume(dir, when string) error {
	return fmt.Errorf("%s the app saw %s is not the backup volume the agent mounts (device/inode differ): the app container is not mounted as expected or is being torn down", when, dir)
}
