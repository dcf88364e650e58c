package fsuser

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// HandOver gives a root-owned, empty folder to ids: the kubelet creates a subPath folder as
// root and NFS/hostPath volumes get no fsGroup, so a non-root app could not write into it
// otherwise. A folder that is not empty or not root's is left as it is, and so is any folder
// when ids are root's. The caller runs as root with CAP_CHOWN.
func HandOver(dir string, ids IDs) error {
	if ids.UID == 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("the backup folder %s: %w", dir, err)
	}
	if st.Uid != 0 {
		return nil
	}
	empty, err := isEmpty(dir)
	if err != nil || !empty {
		return err
	}
	if err := os.Chown(dir, int(ids.UID), int(ids.GID)); err != nil {
		return fmt.Errorf("the backup folder %s belongs to root and the app runs as uid %d gid %d; "+
			"giving the folder to the app failed (%w). On an NFS export with root_squash, create the folder on the server "+
			"owned by %d:%d (chown %d:%d <export>/<backup-name>), or export it with no_root_squash",
			dir, ids.UID, ids.GID, err, ids.UID, ids.GID, ids.UID, ids.GID)
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
