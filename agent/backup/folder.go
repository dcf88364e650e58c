package backup

import (
	"errors"
	"fmt"
	"io"
	"os"

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

// handOver gives a root-owned, empty backup folder to the app's uid/gid: kubelet creates the
// subPath folder as root and NFS/hostPath volumes get no fsGroup, so a non-root app could not
// write its backup otherwise. A folder that is not empty or not root's is left as it is.
func handOver(dir string, p target.Process) error {
	if p.UID == 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("the agent's backup folder %s: %w", dir, err)
	}
	if st.Uid != 0 {
		return nil
	}
	empty, err := isEmpty(dir)
	if err != nil || !empty {
		return err
	}
	if err := os.Chown(dir, int(p.UID), int(p.GID)); err != nil {
		return fmt.Errorf("the backup folder %s belongs to root and the app runs as uid %d gid %d; "+
			"giving the folder to the app failed (%w). On an NFS export with root_squash, create the folder on the server "+
			"owned by %d:%d (chown %d:%d <export>/<backup-name>), or export it with no_root_squash",
			dir, p.UID, p.GID, err, p.UID, p.GID, p.UID, p.GID)
	}
	return nil
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
