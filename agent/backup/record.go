package backup

import (
	"time"

	"github.com/boanu/kab/agent/appexec"
)

// ResultRunning is the result of the run in progress in the status API.
const ResultRunning = "running"

// Run is one backup run as the status API shows it.
type Run struct {
	ID              string     `json:"id"`
	Trigger         string     `json:"trigger"` // "schedule" or "manual"
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end"`
	DurationSeconds float64    `json:"durationSeconds"`
	Result          string     `json:"result"`   // success, failure, timeout, empty, verify_failed; running
	ExitCode        *int       `json:"exitCode"` // 128+signal when killed, -1 when never started
	OutputTail      string     `json:"outputTail"`
	Error           string     `json:"error,omitempty"` // why a run failed, in words
	// What the run wrote: the .partial folder in snapshot mode, the files it created or changed
	// under the backup folder in seed mode.
	SizeBytes int64 `json:"sizeBytes"`
	Files     int64 `json:"files"`
	// Snapshot is the folder under snapshots/ the run left: "<stamp>" when promoted,
	// "<stamp>.rejected" when refused; empty in seed mode or when nothing was kept.
	Snapshot string `json:"snapshot,omitempty"`
}

// Target is whether the app's process is found.
type Target struct {
	Found bool `json:"found"`
	PID   *int `json:"pid"`
}

// Status is the answer of GET /status.
type Status struct {
	BackupName string     `json:"backupName"`
	Target     Target     `json:"target"`
	Running    *Run       `json:"running"`
	LastRuns   []Run      `json:"lastRuns"` // newest first
	NextRun    *time.Time `json:"nextRun"`
	Offsite    any        `json:"offsite,omitempty"` // the offsite copy's state, when configured
}

// verifyMarker separates the backup command's output from the verify script's in outputTail.
const verifyMarker = "--- backup-verify ---"

// historySize is how many finished runs the status keeps.
const historySize = 10

// activeRun is the run in progress.
type activeRun struct {
	Run
	tail   *appexec.Tail
	verify *appexec.Tail // the backup-verify script's output, shown after a marker
	steps  *startSteps   // from the trigger to the command's start
}

func (a *activeRun) snapshot(now time.Time) Run {
	r := a.Run
	r.DurationSeconds = now.Sub(r.Start).Seconds()
	r.OutputTail = a.tail.String()
	if v := a.verify.String(); v != "" {
		r.OutputTail += "\n" + verifyMarker + "\n" + v
	}
	return r
}
