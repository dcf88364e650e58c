package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// probeCmd runs inside the app container (the pod shares one network namespace, so the agent's
// loopback control API is reachable): it starts a backup with POST /backup and times until the
// backup command's first instruction, `echo go > FIFO`, reaches the FIFO this process is
// blocked reading. The same method as agent/cmd/kab-agent's BenchmarkTriggerToCommandStart.
// It prints one "trigger_ns N" line per sample.
func probeCmd(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	control := fs.String("control", "127.0.0.1:9780", "the agent's control API")
	fifo := fs.String("fifo", "/tmp/kab-bench-fifo", "the FIFO the backup command writes to")
	n := fs.Int("n", 1, "samples")
	_ = fs.Parse(args)
	if err := syscall.Mkfifo(*fifo, 0o666); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("mkfifo %s: %w", *fifo, err)
	}
	// Read-write, so a read waits for the command's line instead of seeing EOF.
	f, err := os.OpenFile(*fifo, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	base := "http://" + *control
	line := make([]byte, 3)
	for range *n {
		if err := waitIdle(base); err != nil {
			return err
		}
		start := time.Now()
		resp, err := http.Post(base+"/backup", "application/json", nil)
		if err != nil {
			return fmt.Errorf("POST /backup: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("POST /backup: %s %s", resp.Status, strings.TrimSpace(string(body)))
		}
		_ = f.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadFull(f, line); err != nil {
			return fmt.Errorf("the backup command did not write to %s within 30s (is its backup-exec `echo go > %s`?): %w", *fifo, *fifo, err)
		}
		fmt.Printf("trigger_ns %d\n", time.Since(start).Nanoseconds())
	}
	return waitIdle(base)
}

// waitIdle waits until the agent runs no backup (untimed).
func waitIdle(base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/status")
		if err != nil {
			return fmt.Errorf("GET /status: %w", err)
		}
		var st struct {
			Running json.RawMessage `json:"running"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET /status: %w", err)
		}
		if len(st.Running) == 0 || string(st.Running) == "null" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("a backup is still running after 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
