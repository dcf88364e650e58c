package shared

import (
	"fmt"
	"strings"
)

// MarkdownTable renders the annotation table for the README, so the docs cannot drift from
// the code: a test compares it with the README's copy.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| annotation | default | meaning |\n| --- | --- | --- |\n")
	for _, a := range Annotations {
		def := "—"
		if a.Default != "" {
			def = "`" + a.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s%s` | %s | %s |\n", Prefix, a.Key, def, a.Doc)
	}
	return b.String()
}
