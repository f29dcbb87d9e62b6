package parley

// PasswordStore persists what the password feature needs (identity issue). sqldb
// implements it; its schema is sqldb/migrations/*/0002_password.sql.
type PasswordStore interface{}

// PasswordService is the password feature as the transport sees it.
type PasswordService interface{}
