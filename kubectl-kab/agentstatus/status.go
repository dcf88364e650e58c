// Package agentstatus is what kubectl-kab reads from an agent: the JSON of its read-only
// GET /status (DESIGN §6, §9, §10) and a few gauges of its /metrics. The types are the
// client's side of that wire contract; unknown fields are kept in Raw so -o json shows them.
package agentstatus

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is the agent's GET /status as served on its metrics port (without output tails).
type Status struct {
	BackupName string     `json:"backupName"`
	Target     Target     `json:"target"`
	Running    *Run       `json:"running"`
	LastRuns   []Run      `json:"lastRuns"` // newest first
	NextRun    *time.Time `json:"nextRun"`
	Offsite    *Offsite   `json:"offsite,omitempty"`

	// Raw is the body as the agent sent it.
	Raw json.RawMessage `json:"-"`
}

// Target says whether the agent found the app's process.
type Target struct {
	Found bool `json:"found"`
	PID   *int `json:"pid"`
}

// Run is one backup run.
type Run struct {
	ID              string     `json:"id"`
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end"`
	DurationSeconds float64    `json:"durationSeconds"`
	Result          string     `json:"result"`
	ExitCode        *int       `json:"exitCode"`
	Error           string     `json:"error,omitempty"`
	SizeBytes       *int64     `json:"sizeBytes,omitempty"`
	Files           *int64     `json:"files,omitempty"`
	Snapshot        string     `json:"snapshot,omitempty"`
}

// Offsite is the state of the encrypted offsite copies (DESIGN §10).
type Offsite struct {
	LastSuccess *time.Time `json:"lastSuccess"`
	LastError   string     `json:"lastError"`
	LastStamp   string     `json:"lastStamp"`
}

// ResultSuccess is the result of a good run.
const ResultSuccess = "success"

// Parse decodes a GET /status body.
func Parse(body []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("the agent's status is not the JSON kab agents send: %w", err)
	}
	s.Raw = append(json.RawMessage(nil), body...)
	return &s, nil
}

// LastFinished is the newest finished run, or nil before the first one.
func (s *Status) LastFinished() *Run {
	if len(s.LastRuns) == 0 {
		return nil
	}
	return &s.LastRuns[0]
}

// LastSuccess is the newest successful run still in the history, or nil.
func (s *Status) LastSuccess() *Run {
	for i := range s.LastRuns {
		if s.LastRuns[i].Result == ResultSuccess {
			return &s.LastRuns[i]
		}
	}
	return nil
}
