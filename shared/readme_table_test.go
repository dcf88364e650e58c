package shared

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite the README's annotation table from the shared table")

const (
	tableBegin = "<!-- annotations:begin (generated from shared/annotations.go) -->\n"
	tableEnd   = "<!-- annotations:end -->"
)

// The README's annotation table is what users read; it must say what the code does.
func TestREADMEAnnotationTable(t *testing.T) {
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, tableBegin)
	if !ok {
		t.Fatalf("%s has no %q marker", path, strings.TrimSpace(tableBegin))
	}
	current, after, ok := strings.Cut(rest, tableEnd)
	if !ok {
		t.Fatalf("%s has no %q marker", path, tableEnd)
	}
	want := MarkdownTable()
	if current == want {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(before+tableBegin+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README's annotation table differs from shared.Annotations; run `go test ./shared -run TestREADMEAnnotationTable -update`.\nREADME has:\n%s\nwant:\n%s", current, want)
}
