package crypt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

// secretVersion starts every blob of SealSecret.
const secretVersion = 1

// maxKEKIDLen bounds the KEK ID stored in a secret blob.
const maxKEKIDLen = 1<<16 - 1

// ErrMalformedSecret is returned for a secret blob that cannot be parsed.
var ErrMalformedSecret = errors.New("crypt: malformed sealed secret")

// SealSecret encrypts a small secret (an MFA seed, A7) directly under the
// provider's current KEK, binding aad (e.g. the user ID, so a sealed secret
// copied to another account fails to open). The blob names its KEK, so it
// stays readable after rotation:
//
//	version (1) ‖ u16be(len(kekID)) ‖ kekID ‖ wrapped
func SealSecret(ctx context.Context, kp parley.KeyProvider, secret, aad []byte) ([]byte, error) {
	kekID, wrapped, err := kp.Wrap(ctx, secret, secretAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("crypt: seal secret: %w", err)
	}
	idLen := len(kekID)
	if idLen < 1 || idLen > maxKEKIDLen {
		return nil, errors.New("crypt: seal secret: key provider returned an unusable key ID")
	}
	b := make([]byte, 0, 3+idLen+len(wrapped))
	b = append(b, secretVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(idLen))
	b = append(b, kekID...)
	return append(b, wrapped...), nil
}

// OpenSecret returns the secret sealed by SealSecret with the same aad. The
// caller should wipe it after use (D6).
func OpenSecret(ctx context.Context, kp parley.KeyProvider, blob, aad []byte) ([]byte, error) {
	if len(blob) < 3 || blob[0] != secretVersion {
		return nil, ErrMalformedSecret
	}
	n := int(binary.BigEndian.Uint16(blob[1:3]))
	if n == 0 || len(blob) < 3+n {
		return nil, ErrMalformedSecret
	}
	kekID, wrapped := string(blob[3:3+n]), blob[3+n:]
	secret, err := kp.Unwrap(ctx, kekID, wrapped, secretAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("crypt: open secret: %w", err)
	}
	return secret, nil
}

// secretAAD separates sealed secrets from wrapped data keys under the same
// KEK: neither can be passed off as the other.
func secretAAD(aad []byte) []byte {
	b := make([]byte, 0, 4+len(labelSecret)+4+len(aad))
	b = appendString(b, labelSecret)
	return appendBytes(b, aad)
}
