package backup

import (
	"errors"
	"fmt"
)

var (
	// ErrStopping is returned by Start while the agent shuts down, and is the cause given to
	// a run killed by the shutdown.
	ErrStopping = errors.New("the agent is stopping")
	// errTimeout is the cause given to a run killed at backup-timeout.
	errTimeout = errors.New("the backup took longer than backup-timeout and was killed")
	// errTargetGone is the cause given to a run killed because the app's process went away.
	errTargetGone = errors.New("the app process exited or was replaced during the run; a dying container's root can swallow writes, so the run is not trusted")
)

// BusyError is returned by Start when a run is going.
type BusyError struct{ ID string }

func (e *BusyError) Error() string { return fmt.Sprintf("backup %s is running", e.ID) }
