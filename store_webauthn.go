package parley

// WebAuthnStore persists what the webauthn feature needs (identity issue). sqldb
// implements it; its schema is sqldb/migrations/*/0003_webauthn.sql.
type WebAuthnStore interface{}

// WebAuthnService is the webauthn feature as the transport sees it.
type WebAuthnService interface{}
