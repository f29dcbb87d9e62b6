package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
	"github.com/pquerna/otp/totp"
)

const crashPassword = "Crash-Test-Pass-42"

// TestSIGKILLLosesNoAcknowledgedMessage runs the real parleyd binary, kills
// it with SIGKILL in the middle of a burst of sends, starts it again on the
// same data directory and checks that every message the server had
// acknowledged is there, with the same ID and seq (DESIGN.md §3: ack only
// after commit; SQLite synchronous=FULL).
func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "parleyd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	proc, _ := startParleyd(t, bin, data, addr)
	c := waitReady(ctx, t, data, addr)
	token, err := os.ReadFile(filepath.Join(data, "setup-token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Setup(ctx, wire.SetupRequest{SetupToken: strings.TrimSpace(string(token)), Username: "admin",
		Password: crashPassword, DisplayName: "Admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "admin", crashPassword); err != nil {
		t.Fatal(err)
	}
	enr, err := c.EnrollTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(enr.Secret, time.Now())
	if _, err := c.ConfirmTOTP(ctx, code); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"bob", "carol"} {
		id, err := c.CreateUser(ctx, wire.CreateUserRequest{Username: name, DisplayName: name, Password: crashPassword})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	bob := newCrashClient(t, data, addr)
	if _, err := bob.Login(ctx, "bob", crashPassword); err != nil {
		t.Fatal(err)
	}
	conv, err := bob.CreateConversation(ctx, "group", []string{ids["carol"]}, "burst")
	if err != nil {
		t.Fatal(err)
	}

	type acked struct {
		id  string
		seq int64
	}
	var mu sync.Mutex
	acks := map[string]acked{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				cm := fmt.Sprintf("w%d-%d", w, i)
				res, err := bob.Send(ctx, conv, cm, "burst "+cm)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acks[cm] = acked{res.MessageID, res.Seq}
				mu.Unlock()
			}
		}(w)
	}
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 400 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	wg.Wait()
	t.Logf("%d messages acknowledged before SIGKILL", len(acks))

	proc2, _ := startParleyd(t, bin, data, addr)
	defer func() { _ = proc2.Process.Signal(syscall.SIGTERM); _ = proc2.Wait() }()
	waitReady(ctx, t, data, addr)
	carol := newCrashClient(t, data, addr)
	if _, err := carol.Login(ctx, "carol", crashPassword); err != nil {
		t.Fatal(err)
	}
	stored := map[int64]wire.Message{}
	for after := int64(0); ; {
		page, err := carol.History(ctx, conv, after, 200)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			stored[m.Seq] = m
			after = m.Seq
		}
		if len(page) < 200 {
			break
		}
	}
	for cm, a := range acks {
		m, ok := stored[a.seq]
		if !ok || m.MessageID != a.id || m.Body != "burst "+cm {
			t.Errorf("acknowledged %s (seq %d, %s) lost or changed: %+v", cm, a.seq, a.id, m)
		}
	}
	for seq := int64(1); seq <= int64(len(stored)); seq++ {
		if _, ok := stored[seq]; !ok {
			t.Errorf("gap at seq %d of %d", seq, len(stored))
		}
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startParleyd(t *testing.T, bin, data, addr string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("parleyd stderr:\n%s", stderr.String())
		}
	})
	return cmd, &stderr
}

func newCrashClient(t *testing.T, data, addr string) *client.Client {
	c, err := client.New("https://"+addr, client.WithCAFile(filepath.Join(data, "tls", "cert.pem")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitReady(ctx context.Context, t *testing.T, data, addr string) *client.Client {
	t.Helper()
	for {
		if _, err := os.Stat(filepath.Join(data, "tls", "cert.pem")); err == nil {
			c := newCrashClient(t, data, addr)
			if _, err := c.Me(ctx); client.IsCode(err, "unauthenticated") {
				return c
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("parleyd did not become ready")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
