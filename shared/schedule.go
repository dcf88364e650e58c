package shared

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a validated backup schedule: either a fixed interval or a cron expression.
type Schedule struct {
	// Every is the interval between runs for the seed's seconds, Go durations and @every.
	Every time.Duration
	// Cron is a 5-field expression or descriptor, with its CRON_TZ= prefix if any, as gocron
	// (and robfig/cron under it) reads it. Empty for interval schedules.
	Cron string
}

// IsCron reports whether runs follow a cron expression rather than an interval.
func (s Schedule) IsCron() bool { return s.Cron != "" }

func (s Schedule) String() string {
	if s.IsCron() {
		return s.Cron
	}
	return "@every " + s.Every.String()
}

// Location is the zone the schedule's periods are counted in (retention's days, weeks…): the
// CRON_TZ= or TZ= zone of a cron expression, UTC otherwise.
func (s Schedule) Location() *time.Location {
	if zone, _, ok := cutZone(s.Cron); ok {
		if loc, err := time.LoadLocation(zone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// cronParser is the 5-field grammar with descriptors (@daily…); the same one gocron uses for
// crontab jobs without seconds, so what validates here runs there.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var errBadSchedule = errors.New(`is not a valid schedule; use seconds ("3600"), a Go duration ("15m", "1h30m"), "@every 1h", a 5-field cron expression ("0 3 * * *") or @hourly/@daily/@weekly/@monthly/@yearly, optionally prefixed by "CRON_TZ=Area/City "`)

// ParseSchedule reads the backup-schedule grammar of DESIGN §3.
func ParseSchedule(v string) (Schedule, error) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 1 {
			return Schedule{}, fmt.Errorf("is not a valid schedule; seconds between backups must be at least 1")
		}
		if secs > int64(maxInterval/time.Second) {
			return Schedule{}, fmt.Errorf("is too long; at most %d seconds (one year)", int64(maxInterval/time.Second))
		}
		return Schedule{Every: time.Duration(secs) * time.Second}, nil
	}
	if rest, ok := strings.CutPrefix(v, "@every "); ok {
		return parseInterval(strings.TrimSpace(rest))
	}
	if d, err := time.ParseDuration(v); err == nil {
		return checkInterval(d)
	}
	return parseCron(v)
}

// maxInterval keeps intervals within what a person would mean and far from overflow.
const maxInterval = 366 * 24 * time.Hour

func parseInterval(v string) (Schedule, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return Schedule{}, errBadSchedule
	}
	return checkInterval(d)
}

func checkInterval(d time.Duration) (Schedule, error) {
	if d <= 0 {
		return Schedule{}, fmt.Errorf("is not a valid schedule; the interval must be above zero, e.g. %q", "1h")
	}
	if d < time.Second {
		return Schedule{}, fmt.Errorf("is not a valid schedule; the interval must be at least 1s")
	}
	if d > maxInterval {
		return Schedule{}, fmt.Errorf("is too long; the interval must be at most %s", maxInterval)
	}
	return Schedule{Every: d}, nil
}

func parseCron(v string) (Schedule, error) {
	expr := v
	if tz, rest, ok := cutZone(v); ok {
		if _, err := time.LoadLocation(tz); err != nil || tz == "" {
			return Schedule{}, fmt.Errorf("names an unknown time zone %q; use an IANA zone such as %q or %q", tz, "Europe/Oslo", "UTC")
		}
		if strings.TrimSpace(rest) == "" {
			return Schedule{}, errBadSchedule
		}
		expr = "CRON_TZ=" + tz + " " + strings.TrimSpace(rest)
	}
	if _, err := cronParser.Parse(expr); err != nil {
		return Schedule{}, errBadSchedule
	}
	return Schedule{Cron: expr}, nil
}

// cutZone splits a "CRON_TZ=Zone rest" or "TZ=Zone rest" prefix off a cron expression.
func cutZone(v string) (zone, rest string, ok bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if after, found := strings.CutPrefix(v, p); found {
			zone, rest, _ = strings.Cut(after, " ")
			return zone, rest, true
		}
	}
	return "", "", false
}
