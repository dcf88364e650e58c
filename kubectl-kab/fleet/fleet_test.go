package fleet_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/boanu/kab/e2e/golden"
	"github.com/boanu/kab/kubectl-kab/agentstatus"
	"github.com/boanu/kab/kubectl-kab/fleet"
)

// now is the moment the golden tables are printed at.
var now = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

// fleetCase is one pod of the golden fleet: its status (and metrics) from testdata, or the
// error asking it gave.
type fleetCase struct {
	namespace, pod, mode, file string
	err                        error
}

var cases = []fleetCase{
	{"shop", "db-0", fleet.ModeSnapshot, "ok-snapshot", nil},
	{"wiki", "wiki-7d9f", fleet.ModeSnapshot, "failing-verify", nil},
	{"media", "photos-0", fleet.ModeSeed, "stale-seed", nil},
	{"media", "immich-5c", fleet.ModeSeed, "new-seed", nil},
	{"shop", "ledger-0", fleet.ModeSnapshot, "offsite-failing", nil},
	{"home", "hass-0", fleet.ModeSeed, "", errors.New("the agent did not answer GET status within the timeout")},
}

func observations(t *testing.T) []fleet.Observation {
	t.Helper()
	targets := make([]fleet.Target, len(cases))
	byTarget := map[fleet.Target]fleetCase{}
	for i, c := range cases {
		targets[i] = fleet.Target{Namespace: c.namespace, Pod: c.pod, Mode: c.mode}
		byTarget[targets[i]] = c
	}
	ask := func(_ context.Context, target fleet.Target) (*agentstatus.Status, *agentstatus.Gauges, error) {
		c := byTarget[target]
		if c.err != nil {
			return nil, nil, c.err
		}
		body, err := os.ReadFile(filepath.Join("testdata", c.file+".status.json"))
		if err != nil {
			return nil, nil, err
		}
		status, err := agentstatus.Parse(body)
		if err != nil {
			return nil, nil, err
		}
		var gauges *agentstatus.Gauges
		if metrics, err := os.Open(filepath.Join("testdata", c.file+".metrics.txt")); err == nil {
			defer metrics.Close()
			g, err := agentstatus.ParseGauges(metrics)
			if err != nil {
				return nil, nil, err
			}
			gauges = &g
		}
		return status, gauges, nil
	}
	return fleet.Collect(context.Background(), targets, ask, 2, time.Second)
}

func rows(t *testing.T) []fleet.Row {
	var out []fleet.Row
	for _, o := range observations(t) {
		out = append(out, fleet.Evaluate(o, now))
	}
	return out
}

// The verdicts, independent of how they are printed.
func TestVerdicts(t *testing.T) {
	want := map[string]fleet.State{
		"db-0": fleet.StateOK, "wiki-7d9f": fleet.StateFailing, "photos-0": fleet.StateStale,
		"immich-5c": fleet.StateOK, "ledger-0": fleet.StateFailing, "hass-0": fleet.StateUnknown,
	}
	got := rows(t)
	for _, r := range got {
		if r.State != want[r.Pod] {
			t.Errorf("%s/%s: state %s (%s), want %s", r.Namespace, r.Pod, r.State, r.Reason, want[r.Pod])
		}
		if r.State != fleet.StateOK && r.Reason == "" {
			t.Errorf("%s/%s: state %s without a reason", r.Namespace, r.Pod, r.State)
		}
		if strings.Contains(r.Reason, "\n") {
			t.Errorf("%s/%s: reason spans lines: %q", r.Namespace, r.Pod, r.Reason)
		}
	}
	if n := fleet.Problems(got); n != 4 {
		t.Errorf("problems = %d, want 4", n)
	}
}

// The gauges win over the history: the size is the folder's, not the last run's.
func TestGaugesRefineTheRow(t *testing.T) {
	for _, r := range rows(t) {
		if r.Pod != "db-0" {
			continue
		}
		if r.SizeBytes == nil || *r.SizeBytes != 524288000 || r.Snapshots == nil || *r.Snapshots != 7 {
			t.Errorf("size %v snapshots %v, want the gauges' 524288000 and 7", r.SizeBytes, r.Snapshots)
		}
		return
	}
	t.Fatal("no row for db-0")
}

func TestTableGolden(t *testing.T) {
	for _, withNamespace := range []bool{true, false} {
		var out bytes.Buffer
		if err := fleet.WriteTable(&out, rows(t), withNamespace, now); err != nil {
			t.Fatal(err)
		}
		name := "status-A.table"
		if !withNamespace {
			name = "status.table"
		}
		checkGolden(t, name, out.Bytes())
	}
}

func TestJSONAndYAMLGolden(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		printer, err := genericclioptions.NewJSONYamlPrintFlags().ToPrinter(format)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := printer.PrintObj(fleet.NewList(rows(t)), &out); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "status."+format, out.Bytes())
	}
}

// Slow agents cost their own rows: with a per-pod timeout, asking many hanging agents ends
// after about one timeout per round of parallel asks, and never asks more at once than allowed.
func TestCollectBoundsParallelismAndTimesOut(t *testing.T) {
	var inFlight, peak atomic.Int32
	ask := func(ctx context.Context, _ fleet.Target) (*agentstatus.Status, *agentstatus.Gauges, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	targets := make([]fleet.Target, 9)
	for i := range targets {
		targets[i] = fleet.Target{Namespace: "ns", Pod: string(rune('a' + i))}
	}
	obs := fleet.Collect(context.Background(), targets, ask, 3, 50*time.Millisecond)
	if len(obs) != len(targets) {
		t.Fatalf("%d observations for %d targets", len(obs), len(targets))
	}
	for _, o := range obs {
		if !errors.Is(o.Err, context.DeadlineExceeded) {
			t.Errorf("%s: err %v, want the per-pod deadline", o.Pod, o.Err)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d agents asked at once, want at most 3", p)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}
