package wire

import "time"

// One-time codes by e-mail or SMS (A1). A login that offers "email_otp" or
// "sms_otp" asks for a code with OTPSendRequest and completes with
// MFARequest{Method: "email_otp"|"sms_otp", Code}. Addresses are personal
// data: responses show them masked.

// OTPSendRequest sends a code for a pending login. Channel is "email" or
// "sms".
type OTPSendRequest struct {
	MFAToken string `json:"mfa_token"`
	Channel  string `json:"channel"`
}

// OTPChannelRequest sends a code for step-up.
type OTPChannelRequest struct {
	Channel string `json:"channel"`
}

// OTPSentResponse tells where the code went and until when it is valid.
type OTPSentResponse struct {
	Channel   string    `json:"channel"`
	SentTo    string    `json:"sent_to"` // masked: "a***@example.com", "+*******1800"
	ExpiresAt time.Time `json:"expires_at"`
}

// OTPStepUpRequest steps the session up with a code.
type OTPStepUpRequest struct {
	Channel string `json:"channel"`
	Code    string `json:"code"`
}

// ContactRequest sets an address for a channel: an e-mail address, or a
// phone number in international form (+41 44 668 18 00).
type ContactRequest struct {
	Address string `json:"address"`
}

// OTPCodeRequest carries a code sent to a new address.
type OTPCodeRequest struct {
	Code string `json:"code"`
}

// Contact is an address as its owner sees it, masked.
type Contact struct {
	Channel  string `json:"channel"`
	Address  string `json:"address"`
	Verified bool   `json:"verified"`
}

// ContactList lists the caller's addresses.
type ContactList struct {
	Contacts []Contact `json:"contacts"`
}
