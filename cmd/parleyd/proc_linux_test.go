//go:build linux

package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestHardenProcess checks D6 on the test process itself (harmless: it only
// loses the ability to dump core).
func TestHardenProcess(t *testing.T) {
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	if err := hardenProcess(); err != nil {
		t.Fatal(err)
	}
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		t.Errorf("dumpable = %d (%v), want 0", d, err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 || lim.Max != 0 {
		t.Errorf("RLIMIT_CORE = %+v (%v), want 0/0", lim, err)
	}
	if got := unix.Umask(0o077); got != 0o077 {
		t.Errorf("umask = %04o, want 0077", got)
	}
}
