// Package e2e holds the end-to-end tests of Parley: a whole server runs
// in-process (parleytest.NewServer, the same assembly as `parleyd serve`) on
// SQLite, and on PostgreSQL when PARLEY_TEST_POSTGRES_DSN is set, and the
// tests drive it only through the public SDK (client/) or raw HTTPS and
// WebSocket, as a user's device would.
package e2e
