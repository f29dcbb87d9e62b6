//go:build linux

package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// hardenProcess is the first thing `parleyd serve` does (D6: residual
// information). The process holds session tokens, unwrapped data keys, MFA
// secrets and database passwords in memory; none of that may land on disk or
// in another process:
//
//   - PR_SET_DUMPABLE 0: no core dump on a crash (also via a core_pattern
//     pipe such as systemd-coredump, which RLIMIT_CORE alone does not stop),
//     and no ptrace attach or /proc/PID/mem reads by other processes of the
//     same user. Root can still read memory; that is outside our reach.
//   - RLIMIT_CORE 0 (soft and hard): belt and braces for core files, and
//     inherited by anything the process might start.
//   - umask 077: every file created later (SQLite's database, -wal and -shm
//     files, keyring, backups, setup token) is 0600 and every directory 0700
//     even if its creator forgets to say so (API-CORE: modes 0700/0600).
func hardenProcess() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_CORE, 0): %w", err)
	}
	unix.Umask(0o077)
	return nil
}
