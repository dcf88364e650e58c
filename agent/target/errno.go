package target

import "syscall"

// errESRCH is what reading /proc/<pid>/… returns when the process exits while it is read.
var errESRCH = syscall.ESRCH
