package offsite

import (
	"context"
	"time"
)

// Backoff is a doubling wait between tries, capped.
type Backoff struct {
	First, Max time.Duration
}

// Next returns the wait after the given number of failed tries (1 = after the first).
func (b Backoff) Next(failed int) time.Duration {
	d := b.First
	for i := 1; i < failed && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Retry runs fn until it succeeds, fails with an error that is not IsUnreachable, tries have
// been made, or ctx ends. onRetry is told each error and the wait before the next try.
func Retry(ctx context.Context, tries int, b Backoff, onRetry func(err error, wait time.Duration), fn func() error) error {
	var err error
	for i := 1; ; i++ {
		if err = fn(); err == nil || !IsUnreachable(err) || i >= tries {
			return err
		}
		wait := b.Next(i)
		onRetry(err, wait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}
