package main

import (
	"context"
	"fmt"
	"strconv"
)

// runApprove approves a sign-in request shown on another device, with the
// number that device displays (number matching against MFA fatigue, A1).
func runApprove(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("approve")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return listPendingPush(ctx, e)
	}
	if len(rest) != 2 {
		return usagef("expected 'parley approve' (lists open requests) or 'parley approve REQUEST-ID NUMBER'")
	}
	number, err := strconv.Atoi(rest[1])
	if err != nil || number < 0 || number > 99 {
		return usagef("NUMBER is the two-digit number shown on the new device")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	if err := c.ApprovePush(ctx, rest[0], number); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Sign-in approved.")
	return nil
}

// runDeny refuses a sign-in request; the pending login is voided.
func runDeny(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("deny")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("expected 'parley deny REQUEST-ID'")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	if err := c.DenyPush(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Sign-in denied.")
	return nil
}

// listPendingPush prints the open sign-in requests, for a device that was
// not connected when they were sent. Every field came from the server and
// partly from the requesting client (user agent), so each is cleaned.
func listPendingPush(ctx context.Context, e *env) error {
	c, _, err := e.session()
	if err != nil {
		return err
	}
	list, err := c.PendingPush(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "No sign-in is waiting for approval.")
		return nil
	}
	for _, p := range list {
		until := ""
		if p.ExpiresAt != nil {
			until = p.ExpiresAt.UTC().Format("15:04:05Z")
		}
		fmt.Fprintf(e.stdout, "%s\tfrom %s (%s)\t%s\tuntil %s\n", cleanLine(p.RequestID), cleanLine(p.IP),
			cleanLine(p.Location), cleanLine(p.UserAgent), until)
	}
	fmt.Fprintln(e.stdout, "Approve with: parley approve REQUEST-ID NUMBER (the number the new device shows)")
	return nil
}
