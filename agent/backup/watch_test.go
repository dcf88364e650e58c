package backup

import (
	"os"
	"testing"

	"github.com/boanu/kab/agent/target"
)

// A watcher's scan that found nothing keeps a target that still runs — a run found the
// restarted app while that scan was reading /proc — and forgets one that is gone.
func TestForgetTargetKeepsALiveOne(t *testing.T) {
	r := newRunner(t)
	self, err := target.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	r.setTarget(&self)
	r.forgetTarget()
	if st := r.Status(); !st.Target.Found || *st.Target.PID != self.PID {
		t.Errorf("after a scan found nothing, the live target is lost: %+v", st.Target)
	}
	if up := gathered(t, r, "kab_target_up"); up != 1 {
		t.Errorf("kab_target_up %v with the target alive, want 1", up)
	}

	reused := self
	reused.StartTime++ // the same pid, another process: the target is gone
	r.setTarget(&reused)
	r.forgetTarget()
	if st := r.Status(); st.Target.Found {
		t.Errorf("a target that is gone is kept: %+v", st.Target)
	}
	if up := gathered(t, r, "kab_target_up"); up != 0 {
		t.Errorf("kab_target_up %v with the target gone, want 0", up)
	}
}
