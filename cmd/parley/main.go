// Command parley is the command-line client of Parley for users, admins and
// auditors. It is built on the public SDK (package client) only, so it can
// do nothing that a third-party client could not.
//
// Usage:
//
//	parley login [--server URL] [--ca FILE] [--user NAME] [--password-stdin]
//	parley whoami | logout | conversations | sessions [revoke ID] | users [QUERY]
//	parley send CONVERSATION TEXT… | parley send CONVERSATION -
//	parley history CONVERSATION [--after N] [--before N] [--limit M]
//	parley tail [CONVERSATION…]
//	parley totp enroll
//	parley create-user --username NAME --display-name NAME [--department ID] [--roles a,b]
//	parley new-conversation --type group --title T --members ID,ID
//
// The session (server URL, pinned CA file, token) lives in
// $XDG_CONFIG_HOME/parley/config.json (default ~/.config/parley), mode 0600;
// --config or PARLEY_CONFIG choose another file. Text from the server is
// stripped of terminal control sequences before it is printed, because
// message bodies come from other users.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C cancels the context: tail stops cleanly, other commands abort
	// their request.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newOSEnv())
	stop()
	os.Exit(code)
}
