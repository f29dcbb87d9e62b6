// Package notify delivers messages to people: the one-time codes of A1 by
// e-mail or SMS, and later other notices. A provider is a Sender; the
// services see it only as parley.Notifier, so a deployment picks one in its
// configuration without touching them.
//
// Providers here:
//   - SMTP: real e-mail through a submission server. TLS is required by
//     default (STARTTLS on 587, or implicit TLS on 465); plain SMTP must be
//     asked for explicitly, and credentials are never sent without TLS.
//   - FileSink: JSON lines appended to a 0600 file, for development and
//     tests. It reaches both channels, and the file holds live codes.
//
// There is no default provider: a server sends nothing anywhere unless an
// operator configured a provider (P3, no outbound calls unless configured);
// without one, one-time codes are simply not offered. No provider logs a
// message body, which may hold a code (D6).
package notify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// Message is one notification; Channel is "email" or "sms".
type Message = parley.Notification

// Sender is a notification provider.
type Sender = parley.Notifier

// Channels.
const (
	ChannelEmail = parley.ChannelEmail
	ChannelSMS   = parley.ChannelSMS
)

// Limits of a message, far above what a code notice needs; a message beyond
// them is a bug, refused before anything goes out.
const (
	maxToLen      = 320
	maxSubjectLen = 200
	maxBodyLen    = 4096
)

// ErrUnsupportedChannel is returned by a provider asked to use a channel it
// cannot reach.
var ErrUnsupportedChannel = errors.New("notify: channel not supported by this provider")

// check refuses malformed messages. Control characters in the recipient or
// subject would let a value inject headers or SMTP commands (I3).
func check(m Message) error {
	switch m.Channel {
	case ChannelEmail, ChannelSMS:
	default:
		return fmt.Errorf("notify: unknown channel %q", m.Channel)
	}
	if m.To == "" || len(m.To) > maxToLen || hasControl(m.To) {
		return errors.New("notify: invalid recipient")
	}
	if len(m.Subject) > maxSubjectLen || hasControl(m.Subject) {
		return errors.New("notify: invalid subject")
	}
	if len(m.Body) > maxBodyLen || strings.ContainsRune(m.Body, 0) {
		return errors.New("notify: invalid body")
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
