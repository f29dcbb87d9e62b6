package crypt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on argon2id parameters, applied to our own configuration and to
// every parsed hash. A stored hash with absurd costs (from a bad import or a
// tampered row) must fail, not allocate gigabytes or spin for minutes.
const (
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minArgon2Salt    = 8 // RFC 9106 §3.1 minimum
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 64
	maxPHCLen        = 256
)

// ErrMalformedHash is returned for a password hash that is not an argon2id
// PHC string within bounds. Its text never includes the hash.
var ErrMalformedHash = errors.New("crypt: malformed password hash")

// phcB64 is unpadded standard base64 as the reference implementation writes
// it. Strict rejects non-zero trailing bits, so each hash has one encoding.
var phcB64 = base64.RawStdEncoding.Strict()

func (p Argon2Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return malformed("parallelism out of range")
	case p.Time < 1 || p.Time > maxArgon2Time:
		return malformed("time cost out of range")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		return malformed("memory cost out of range")
	case p.SaltLen < minArgon2Salt || p.SaltLen > maxArgon2Salt:
		return malformed("salt length out of range")
	case p.KeyLen < minArgon2Key || p.KeyLen > maxArgon2Key:
		return malformed("hash length out of range")
	}
	return nil
}

func malformed(reason string) error { return fmt.Errorf("%w: %s", ErrMalformedHash, reason) }

func encodePHC(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Time, p.Threads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}

// argon2Version is the only version accepted: 0x13 = 19.
const argon2Version = 19

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$hash strictly: fields in
// this order, decimal numbers without sign or leading zeros, canonical
// base64, every value within bounds.
func parsePHC(s string) (p Argon2Params, salt, key []byte, err error) {
	if len(s) > maxPHCLen {
		return p, nil, nil, malformed("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, malformed("wrong number of fields")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, malformed("not argon2id")
	}
	if parts[2] != "v=19" {
		return p, nil, nil, malformed("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, malformed("wrong parameters")
	}
	var nums [3]uint32
	for i, name := range [3]string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return p, nil, nil, malformed("wrong parameters")
		}
		if nums[i], err = parseDecimal(v); err != nil {
			return p, nil, nil, err
		}
	}
	threads := nums[2]
	if threads > maxArgon2Threads {
		return p, nil, nil, malformed("parallelism out of range")
	}
	if salt, err = decodeB64(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = decodeB64(parts[5]); err != nil {
		return p, nil, nil, err
	}
	// Bound the lengths before narrowing them (validate repeats the check
	// on the params): a conversion must never wrap into range.
	saltLen, keyLen := len(salt), len(key)
	if saltLen > maxArgon2Salt {
		return p, nil, nil, malformed("salt length out of range")
	}
	if keyLen > maxArgon2Key {
		return p, nil, nil, malformed("hash length out of range")
	}
	p = Argon2Params{Memory: nums[0], Time: nums[1], Threads: uint8(threads),
		SaltLen: uint32(saltLen), KeyLen: uint32(keyLen)}
	if err = p.validate(); err != nil {
		return Argon2Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

func parseDecimal(s string) (uint32, error) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, malformed("bad number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, malformed("bad number")
		}
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, malformed("bad number")
	}
	return uint32(v), nil
}

// decodeB64 decodes canonical unpadded base64. The re-encoding check
// rejects what the decoder would silently skip (CR, LF).
func decodeB64(s string) ([]byte, error) {
	b, err := phcB64.DecodeString(s)
	if err != nil || phcB64.EncodeToString(b) != s {
		return nil, malformed("bad base64")
	}
	return b, nil
}
