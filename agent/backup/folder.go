package backup

import (
	"fmt"
	"os"
	"strings"

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

// statInRoot stats dir (absolute, as the app sees it) through the app's root. The caller's
// thread has the app's fs ids (appexec.Request.Check runs there).
func statInRoot(root *os.File, dir string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(root.Fd()), strings.TrimLeft(dir, "/"), &st, 0); err != nil {
		return st, fmt.Errorf("%s in the app container: %w", dir, err)
	}
	return st, nil
}

// errNotTheVolume says what a device/inode mismatch means for the user.
func errNotTheVolume(dir, when string) error {
	return fmt.Errorf("%s the app saw %s is not the backup volume the agent mounts (device/inode differ): the app container is not mounted as expected or is being torn down", when, dir)
}
