// Package securitytest is Parley's automated penetration-test suite (V4): a
// table of black-box attack scenarios, each named after the requirement it
// defends, that drive a server only from the outside — through the public
// SDK (package client), raw HTTPS requests, raw WebSocket connections and
// raw TCP/TLS sockets — and assert the secure outcome: the status and error
// code, that nothing was stored (checked by a second read), and an audit
// record where one is due (read back as an auditor would).
//
// The package has no exported API; everything lives in its tests.
//
// # Running
//
// Against an in-process server (what CI does; about half a minute):
//
//	go test ./securitytest/
//
// Every scenario is a subtest named "<requirement ID>/<attack>", for
// example TestAttacks/Z6/IDOR-history-other-users-conversation, so one
// attack or one requirement can be run alone:
//
//	go test ./securitytest/ -run 'TestAttacks/Z6/'
//
// Against a running server (a staging deployment, a release candidate):
//
//	go test ./securitytest/ -target https://host:port -ca cert.pem -setup-token TOKEN
//
// -ca names the PEM certificate (or CA) to trust; without it the system
// roots are used. -setup-token is the one-time token of a FRESH server (its
// DIR/setup-token): the suite then creates its own administrator, auditor
// and users (names with a random suffix) and attacks with them. Without
// it, the scenarios that need accounts are skipped and only the
// unauthenticated ones run (TLS, headers, CSRF, slowloris, anonymous
// access, malformed input before authentication, …). Scenarios that must
// move the server's clock or change its configuration (idle timeout,
// trusted proxies) run in-process only and are skipped against a target.
// Against a target, the scenarios that exhaust the login rate limits of
// the caller's address run last; the target is left with the suite's
// accounts and messages in it, so point it at a throwaway deployment.
//
// # Adding a scenario
//
// Append a scenario to one of the register calls (scen_*_test.go): a
// requirement ID from REQUIREMENTS.md, a kebab-case attack name, one line
// saying what is attacked and what must happen, and the function. Then run
//
//	go test ./securitytest/ -run TestScenarioTable -update-doc
//
// to regenerate the scenario table of docs/security-testing.md;
// TestScenarioTable fails while the document is stale.
package securitytest
