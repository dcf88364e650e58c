// Package fleet turns what each kab pod's agent says into one row per pod and decides which
// rows are not OK: the logic of `kubectl kab status`, free of any API server.
package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/boanu/kab/kubectl-kab/agentstatus"
)

// State is the verdict on one backup.
type State string

// The states, in the order a reader should worry about them.
const (
	StateOK      State = "ok"
	StateFailing State = "failing" // the last run or the offsite copy failed, or the app is gone
	StateStale   State = "stale"   // the next run is overdue: the scheduler is not moving
	StateUnknown State = "unknown" // the agent did not answer
)

// Mode is how the pod keeps its backups.
const (
	ModeSeed     = "seed"
	ModeSnapshot = "snapshot"
)

// StaleAfter is how far past its scheduled time a run may be before the backup is stale; the
// same slack as the shipped KabBackupOverdue alert, so the table and the alert agree.
const StaleAfter = 15 * time.Minute

// Observation is what was learned about one pod.
type Observation struct {
	Namespace, Pod string
	Mode           string
	Status         *agentstatus.Status // nil when the agent did not answer
	Gauges         *agentstatus.Gauges // nil when /metrics did not answer
	Err            error               // why Status is nil
}

// Row is one line of the status table, also the item of -o json|yaml.
type Row struct {
	Namespace   string               `json:"namespace"`
	Pod         string               `json:"pod"`
	BackupName  string               `json:"backupName,omitempty"`
	Mode        string               `json:"mode"`
	State       State                `json:"state"`
	Reason      string               `json:"reason,omitempty"`
	Running     string               `json:"running,omitempty"` // id of the run in progress
	LastResult  string               `json:"lastResult,omitempty"`
	LastRunEnd  *time.Time           `json:"lastRunEnd,omitempty"`
	LastSuccess *time.Time           `json:"lastSuccess,omitempty"`
	NextRun     *time.Time           `json:"nextRun,omitempty"`
	SizeBytes   *int64               `json:"sizeBytes,omitempty"`
	Snapshots   *int64               `json:"snapshots,omitempty"`
	Offsite     *agentstatus.Offsite `json:"offsite,omitempty"`
	// Agent is the agent's status as sent, for scripts that want more than the row.
	Agent rawJSON `json:"agent,omitempty"`
}

// Evaluate makes the row for one observation at time now.
func Evaluate(o Observation, now time.Time) Row {
	row := Row{Namespace: o.Namespace, Pod: o.Pod, Mode: o.Mode}
	if o.Status == nil {
		row.State, row.Reason = StateUnknown, oneLine(o.Err)
		return row
	}
	s := o.Status
	row.BackupName = s.BackupName
	row.Agent = rawJSON(s.Raw)
	row.NextRun = s.NextRun
	row.Offsite = s.Offsite
	if s.Running != nil {
		row.Running = s.Running.ID
	}
	if last := s.LastFinished(); last != nil {
		row.LastResult = last.Result
		row.LastRunEnd = last.End
	}
	if ok := s.LastSuccess(); ok != nil {
		row.LastSuccess = ok.End
		row.SizeBytes = ok.SizeBytes
	}
	if g := o.Gauges; g != nil {
		if g.LastSuccess != nil {
			row.LastSuccess = g.LastSuccess
		}
		if g.SizeBytes != nil && *g.SizeBytes > 0 {
			row.SizeBytes = g.SizeBytes
		}
		row.Snapshots = g.Snapshots
	}
	row.State, row.Reason = verdict(s, now)
	return row
}

// verdict checks, worst first: a failed last run, a missing app, an overdue schedule, a
// failing offsite copy.
func verdict(s *agentstatus.Status, now time.Time) (State, string) {
	if last := s.LastFinished(); last != nil && last.Result != agentstatus.ResultSuccess {
		reason := "last run " + last.Result
		if last.Error != "" {
			reason += ": " + last.Error
		} else if last.ExitCode != nil {
			reason += fmt.Sprintf(" (exit code %d)", *last.ExitCode)
		}
		return StateFailing, oneLine(reason)
	}
	if !s.Target.Found {
		return StateFailing, "the agent does not find the app's process"
	}
	switch {
	case s.NextRun == nil && s.Running == nil:
		return StateStale, "no run is scheduled (the agent is stopping?)"
	case s.NextRun != nil && s.Running == nil && now.Sub(*s.NextRun) > StaleAfter:
		return StateStale, "the next run is overdue by " + Age(now.Sub(*s.NextRun))
	}
	if off := s.Offsite; off != nil && off.LastError != "" {
		local := s.LastSuccess()
		if off.LastSuccess == nil || (local != nil && local.End != nil && off.LastSuccess.Before(*local.End)) {
			return StateFailing, oneLine("offsite upload failing: " + off.LastError)
		}
	}
	return StateOK, ""
}

func oneLine(v any) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprint(v)
	if err, ok := v.(error); ok {
		s = err.Error()
	}
	return strings.Join(strings.Fields(s), " ")
}
