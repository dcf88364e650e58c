package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/backup"
	"github.com/boanu/kab/agent/metrics"
	"github.com/boanu/kab/agent/schedule"
	"github.com/boanu/kab/agent/server"
	"github.com/boanu/kab/agent/settings"
)

// shutdownGrace bounds each shutdown step, so SIGTERM ends the agent within a few seconds.
const shutdownGrace = 4 * time.Second

// runAgent runs the agent until ctx ends (SIGTERM): it serves metrics and the control API,
// watches for the app's process and runs backups on the schedule and on demand.
func runAgent(ctx context.Context, cfg *settings.Config, logger *slog.Logger) error {
	if err := appexec.BecomeSubreaper(); err != nil {
		return err
	}
	var sched atomic.Pointer[schedule.Scheduler]
	nextRun := func() (time.Time, bool) {
		if s := sched.Load(); s != nil {
			return s.NextRun()
		}
		return time.Time{}, false
	}
	m := metrics.New(cfg.Spec.BackupName, cfg.Spec.SnapshotMode(), nextRun)
	// A bad offsite Secret stops the agent here, naming the Secret and the key.
	copies, err := startOffsite(ctx, cfg, m, logger)
	if err != nil {
		return err
	}
	runner := backup.NewRunner(backup.Config{
		Spec: cfg.Spec, Marker: cfg.Container, BackupDir: cfg.BackupDir,
		PodName: cfg.PodName, PodNamespace: cfg.PodNamespace, OnSuccess: copies.onSuccess(),
	}, os.Getpid(), m, logger)
	runner.SetNextRun(nextRun)
	if copies != nil {
		runner.SetOffsiteStatus(copies.status)
	}

	// The control API listens before /healthz answers: the pod turns Ready on /healthz, and
	// whoever waited for that (kubectl kab backup, a test's harness) may ask for a backup at once.
	controlSrv, err := server.Listen(cfg.ControlAddr, server.ControlHandler(runner), logger)
	if err != nil {
		return err
	}
	metricsSrv, err := server.Listen(cfg.MetricsAddr, server.PublicHandler(m.Registry, runner), logger)
	if err != nil {
		_ = controlSrv.Shutdown(context.Background())
		return err
	}
	s, err := schedule.Start(cfg.Spec.Schedule, runner.RunScheduled, m.RunSkipped, logger)
	if err != nil {
		_ = errors.Join(metricsSrv.Shutdown(context.Background()), controlSrv.Shutdown(context.Background()))
		return err
	}
	sched.Store(s)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { runner.Watch(watchCtx); close(watched) }()

	next, _ := s.NextRun()
	logger.Info("agent started", "backup_name", cfg.Spec.BackupName, "schedule", cfg.Spec.Schedule.String(),
		"container", cfg.Container, "backup_dir", cfg.BackupDir, "snapshot_keep", cfg.Spec.Keep,
		"metrics_addr", metricsSrv.Addr(), "control_addr", controlSrv.Addr(), "next_run", next)

	<-ctx.Done()
	logger.Info("stopping")
	// Order: refuse and kill backups first (the control API answers 503 meanwhile), then stop
	// the scheduler, which then has no running task to wait for.
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	runner.Stop(stopCtx)
	if err := s.Stop(); err != nil {
		logger.Warn("stopping the scheduler", "error", err)
	}
	stopWatch()
	<-watched
	srvCtx, cancelSrv := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelSrv()
	err = errors.Join(controlSrv.Shutdown(srvCtx), metricsSrv.Shutdown(srvCtx))
	logger.Info("stopped")
	return err
}
