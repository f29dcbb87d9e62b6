package crypt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
)

func TestSealSecret(t *testing.T) {
	ctx := context.Background()
	kp := newFakeKP()
	secret := []byte("JBSWY3DPEHPK3PXP")
	aad := []byte("u_alice")
	blob, err := SealSecret(ctx, kp, secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	if blob[0] != secretVersion || binary.BigEndian.Uint16(blob[1:3]) != 5 || string(blob[3:8]) != "kek-1" {
		t.Fatalf("blob header: %x", blob[:8])
	}
	if bytes.Contains(blob, secret) {
		t.Fatal("secret in clear")
	}
	kp.rotate() // old blobs stay readable after rotation
	got, err := OpenSecret(ctx, kp, blob, aad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("OpenSecret = %q, %v", got, err)
	}

	bad := []struct {
		name string
		blob []byte
		aad  []byte
		want error
	}{
		{"other user", blob, []byte("u_mallory"), ErrDecrypt},
		{"no aad", blob, nil, ErrDecrypt},
		{"flipped tail", flip(blob, len(blob)-1), aad, ErrDecrypt},
		{"empty", nil, aad, ErrMalformedSecret},
		{"short", blob[:2], aad, ErrMalformedSecret},
		{"version", flip(blob, 0), aad, ErrMalformedSecret},
		{"zero-length kek id", []byte{1, 0, 0, 9}, aad, ErrMalformedSecret},
		{"kek id past end", []byte{1, 0, 9, 'k'}, aad, ErrMalformedSecret},
	}
	for _, tt := range bad {
		if _, err := OpenSecret(ctx, kp, tt.blob, tt.aad); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// Other kek id: the fake provider does not know it.
	renamed := append([]byte{1, 0, 5}, []byte("kek-9")...)
	renamed = append(renamed, blob[8:]...)
	if _, err := OpenSecret(ctx, kp, renamed, aad); err == nil {
		t.Error("unknown KEK accepted")
	}
}

// A wrapped data key cannot be passed off as a sealed secret: the labels of
// the two AADs differ.
func TestSecretDomainSeparation(t *testing.T) {
	ctx := context.Background()
	kp := newFakeKP()
	id, wrapped, err := kp.Wrap(ctx, []byte("dek"), dataKeyAAD("c_1", 1))
	if err != nil {
		t.Fatal(err)
	}
	blob := append([]byte{1, 0, byte(len(id))}, id...)
	blob = append(blob, wrapped...)
	if _, err := OpenSecret(ctx, kp, blob, dataKeyAAD("c_1", 1)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrapped DEK opened as a secret: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}
