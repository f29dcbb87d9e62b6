package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// FileSink is the development and test provider: every message becomes one
// JSON line appended to a file of mode 0600. It reaches e-mail and SMS alike
// and calls nothing outside the process (P3). The file holds live one-time
// codes: it is for development machines and tests, never production.
type FileSink struct {
	path string
	mu   sync.Mutex
	now  func() time.Time
}

// Record is one line of a FileSink file.
type Record struct {
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
}

// NewFileSink returns a sink appending to path, creating it 0600. An
// existing file readable by others is refused rather than silently used:
// it would leak codes.
func NewFileSink(path string) (*FileSink, error) {
	if path == "" {
		return nil, errors.New("notify: file sink needs a path")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600) // #nosec G304 -- notify_file is the operator's own development sink path, from the configuration
	if err != nil {
		return nil, fmt.Errorf("notify: file sink: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("notify: file sink: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("notify: file sink %s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("notify: file sink %s: mode %04o lets others read codes; chmod 0600 it", path, fi.Mode().Perm())
	}
	return &FileSink{path: path, now: time.Now}, nil
}

// Supports reports true for e-mail and SMS.
func (s *FileSink) Supports(channel string) bool {
	return channel == ChannelEmail || channel == ChannelSMS
}

// Send appends m as one JSON line.
func (s *FileSink) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(m); err != nil {
		return err
	}
	line, err := json.Marshal(Record{Time: s.now().UTC(), Channel: m.Channel, To: m.To, Subject: m.Subject, Body: m.Body})
	if err != nil {
		return fmt.Errorf("notify: file sink: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("notify: file sink: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("notify: file sink: %w", err)
	}
	return f.Close()
}

// ReadFile returns the records of a FileSink file in order (tests, and a
// developer reading codes).
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path) // #nosec G304 -- reads a sink file named by a test or a developer, not by a request
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("notify: %s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

var _ Sender = (*FileSink)(nil)
