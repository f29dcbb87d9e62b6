//go:build !linux

package main

// hardenProcess is a no-op outside Linux: the D6 protections (no core dumps,
// non-dumpable process, umask 077) are implemented for Linux, the supported
// server platform; see proc_linux.go.
func hardenProcess() error { return nil }
