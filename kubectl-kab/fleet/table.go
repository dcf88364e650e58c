package fleet

import (
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/printers"
)

// WriteTable prints the rows as kubectl prints its tables; the NAMESPACE column only when the
// rows may span namespaces (-A), as kubectl does.
func WriteTable(out io.Writer, rows []Row, withNamespace bool, now time.Time) error {
	w := printers.GetNewTabWriter(out)
	header := []string{"POD", "BACKUP", "MODE", "STATE", "LAST RESULT", "LAST SUCCESS", "NEXT RUN", "SIZE", "SNAPSHOTS", "OFFSITE", "REASON"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{
			r.Pod, dash(r.BackupName), r.Mode, strings.ToUpper(string(r.State)),
			lastResult(r), ago(r.LastSuccess, now), nextRun(r, now),
			sizeCell(r.SizeBytes), countCell(r.Snapshots), offsiteCell(r, now), dash(r.Reason),
		}
		if withNamespace {
			cells = append([]string{r.Namespace}, cells...)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lastResult(r Row) string {
	switch {
	case r.Running != "":
		return "running"
	case r.State == StateUnknown:
		return "-"
	case r.LastResult == "":
		return "none yet"
	}
	return r.LastResult
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return Age(now.Sub(*t)) + " ago"
}

func nextRun(r Row, now time.Time) string {
	if r.NextRun == nil {
		return "-"
	}
	if d := r.NextRun.Sub(now); d >= 0 {
		return "in " + Age(d)
	}
	return "overdue " + Age(now.Sub(*r.NextRun))
}

func sizeCell(n *int64) string {
	if n == nil {
		return "-"
	}
	return Bytes(*n)
}

func countCell(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func offsiteCell(r Row, now time.Time) string {
	o := r.Offsite
	switch {
	case o == nil:
		return "-"
	case o.LastError != "" && r.State == StateFailing && strings.HasPrefix(r.Reason, "offsite"):
		return "failing"
	case o.LastSuccess != nil:
		return "ok " + Age(now.Sub(*o.LastSuccess)) + " ago"
	case o.LastError != "":
		return "failing"
	}
	return "none yet"
}
