package appexec

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// maxLineBytes bounds one logged line: a command that prints megabytes without a newline
// still gets its output drained (and logged in pieces) instead of blocking on a full pipe.
const maxLineBytes = 16 << 10

// Tail keeps the last lines a command printed, for the status API.
type Tail struct {
	mu       sync.Mutex
	lines    []string
	maxLines int
	maxLine  int
}

// NewTail keeps at most maxLines lines of at most maxLine bytes each.
func NewTail(maxLines, maxLine int) *Tail {
	return &Tail{maxLines: maxLines, maxLine: maxLine}
}

func (t *Tail) add(line string) {
	if len(line) > t.maxLine {
		line = line[:t.maxLine] + "…"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.maxLines {
		t.lines = t.lines[len(t.lines)-t.maxLines:]
	}
}

// String is the kept lines, oldest first, newline-separated.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// streamLines logs every line read from r and adds it to tail until r ends.
func streamLines(r io.Reader, stream string, logger *slog.Logger, tail *Tail) {
	br := bufio.NewReaderSize(r, maxLineBytes)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			line := strings.TrimRight(string(chunk), "\r\n")
			logger.Info("backup output", "stream", stream, "line", line)
			tail.add(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}
