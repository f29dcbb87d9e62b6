// Package crypt is the one cryptographic provider of the Parley server
// (DESIGN.md §4, G1). Every seal, open, hash, token and password hash of the
// server goes through it, so that the algorithms in use can be listed in one
// place (the G1 crypto inventory) and a second profile (`gm`: SM4-GCM, SM3)
// can be added as another Suite without touching callers.
//
// What it offers:
//   - Key: a 256-bit symmetric key that never prints, compares in constant
//     time and can be wiped (D6).
//   - Seal/Open: AES-256-GCM with a version byte naming the suite (D2).
//   - SealMessage/OpenMessage: message bodies bound to conversation, message
//     ID and sequence number, so ciphertext moved to another row fails (D2).
//   - Envelope: per-conversation data keys wrapped by a parley.KeyProvider,
//     unwrapped once and cached (D2, DESIGN.md §3 hot path).
//   - SealSecret/OpenSecret: MFA secrets and other small secrets at rest (A7).
//   - NewToken/HashToken: bearer tokens stored only as hashes (A7).
//   - PasswordHasher: argon2id with bounded concurrency (A7).
//
// Errors never carry key material, plaintext or password hashes.
package crypt
