package main_test

import (
	"fmt"
	"syscall"
)

type syscallStat = syscall.Stat_t

func lstat(path string, st *syscall.Stat_t) error { return syscall.Lstat(path, st) }

func itoa(n int) string { return fmt.Sprint(n) }

func hex16(v uint64) string { return fmt.Sprintf("%016x", v) }
