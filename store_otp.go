package parley

// OTPStore persists what the otp feature needs (identity issue). sqldb
// implements it; its schema is sqldb/migrations/*/0004_otp.sql.
type OTPStore interface{}

// OTPService is the otp feature as the transport sees it.
type OTPService interface{}
