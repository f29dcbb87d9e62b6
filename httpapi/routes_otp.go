package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// otpRoutes serve one-time codes by e-mail or SMS and push approval (A1).
// Sending a login code, starting and polling a push approval are public
// like /auth/mfa: the mfa_token is their credential. Changing one's own
// addresses is PermCredentials, so the router demands step-up (A6);
// setting another user's address is for user administrators and steps up
// in the service. Approving and denying are PermSelf: only a full session
// (never a pre-MFA token, A9) can answer, and only for its own user.
func (a *API) otpRoutes() []*route {
	if a.svc.OTP == nil {
		return nil
	}
	const p = "/api/v1/auth"
	return []*route{
		{Method: "POST", Path: p + "/otp/send", Perm: authz.PermPublic,
			Summary: "Send a one-time code for a login that passed the password (mfa_token); complete with POST /auth/mfa, method email_otp or sms_otp",
			Request: &wire.OTPSendRequest{}, Response: &wire.OTPSentResponse{}, Status: 200, Handle: a.otpSend},
		{Method: "POST", Path: p + "/otp/step-up/send", Perm: authz.PermSelf,
			Summary: "Send a one-time code for step-up (accounts whose policy allows codes, A10)",
			Request: &wire.OTPChannelRequest{}, Response: &wire.OTPSentResponse{}, Status: 200, Handle: a.otpStepUpSend},
		{Method: "POST", Path: p + "/otp/step-up", Perm: authz.PermSelf,
			Summary: "Confirm a one-time code for sensitive operations; replaces the session",
			Request: &wire.OTPStepUpRequest{}, Response: &wire.TokenResponse{}, Status: 200, Handle: a.otpStepUp},
		{Method: "GET", Path: p + "/otp/contacts", Perm: authz.PermSelf, Summary: "The caller's code addresses, masked",
			Response: &wire.ContactList{}, Status: 200, Handle: a.otpContacts},
		{Method: "PUT", Path: p + "/otp/contacts/{channel}", Perm: authz.PermCredentials,
			Summary: "Send a verification code to a new e-mail address or phone number (step-up); the old one works until confirmed",
			Request: &wire.ContactRequest{}, Response: &wire.OTPSentResponse{}, Status: 200, Handle: a.otpSetContact},
		{Method: "POST", Path: p + "/otp/contacts/{channel}/confirm", Perm: authz.PermCredentials,
			Summary: "Confirm a new address with the code sent to it; ends the caller's other sessions",
			Request: &wire.OTPCodeRequest{}, Response: &wire.Contact{}, Status: 200, Handle: a.otpConfirmContact},
		{Method: "DELETE", Path: p + "/otp/contacts/{channel}", Perm: authz.PermCredentials,
			Summary: "Remove an address (step-up); ends the caller's other sessions",
			Status:  204, Handle: a.otpDeleteContact},
		{Method: "PUT", Path: "/api/v1/users/{id}/contacts/{channel}", Perm: authz.PermUsersCreate,
			Summary: "Set a user's verified code address (user administrators, step-up); ends the user's sessions",
			Request: &wire.ContactRequest{}, Response: &wire.Contact{}, Status: 200, Handle: a.otpSetUserContact},

		{Method: "POST", Path: p + "/push/begin", Perm: authz.PermPublic,
			Summary: "Ask the user's signed-in devices to approve a login (mfa_token); returns the number to show",
			Request: &wire.PushBeginRequest{}, Response: &wire.PushBeginResponse{}, Status: 200, Handle: a.pushBegin},
		{Method: "POST", Path: p + "/push/poll", Perm: authz.PermPublic,
			Summary: "Poll a push approval: 202 {status: pending}, 200 {status: approved, token, expires_at}, 401 when denied or expired",
			Request: &wire.PushPollRequest{}, Response: &wire.PushPollResponse{}, Status: 200, Handle: a.pushPoll},
		{Method: "POST", Path: p + "/push/{id}/approve", Perm: authz.PermSelf,
			Summary: "Approve a login from a signed-in device with the number the new device shows; a wrong number denies it",
			Request: &wire.PushApproveRequest{}, Status: 204, Handle: a.pushApprove},
		{Method: "POST", Path: p + "/push/{id}/deny", Perm: authz.PermSelf,
			Summary: "Deny a login from a signed-in device; the pending login is void",
			Request: &wire.Empty{}, Status: 204, Handle: a.pushDeny},
		{Method: "GET", Path: p + "/push/pending", Perm: authz.PermSelf,
			Summary:  "The caller's open approval requests (as push_request frames, without the number), for a device that connected later",
			Response: &wire.PushRequestList{}, Status: 200, Handle: a.pushPending},
	}
}

func (a *API) pushPending(c *call) error {
	list, err := a.svc.OTP.PendingPush(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.PushRequestList{Requests: []wire.PushFrame{}}
	for _, p := range list {
		created, expires := p.CreatedAt, p.ExpiresAt
		out.Requests = append(out.Requests, wire.PushFrame{Type: wire.FramePushRequest, RequestID: p.ID, IP: p.SourceIP,
			Location: p.Location, UserAgent: p.UserAgent, CreatedAt: &created, ExpiresAt: &expires})
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func writeSent(c *call, s *parley.OTPSent) {
	writeJSON(c.w, http.StatusOK, wire.OTPSentResponse{Channel: s.Channel, SentTo: s.SentTo, ExpiresAt: s.ExpiresAt})
}

func (a *API) otpSend(c *call) error {
	req := c.body.(*wire.OTPSendRequest)
	s, err := a.svc.OTP.SendLoginOTP(c.r.Context(), req.MFAToken, req.Channel, c.meta)
	if err != nil {
		return err
	}
	writeSent(c, s)
	return nil
}

func (a *API) otpStepUpSend(c *call) error {
	req := c.body.(*wire.OTPChannelRequest)
	s, err := a.svc.OTP.SendStepUpOTP(c.r.Context(), c.actor, req.Channel, c.meta)
	if err != nil {
		return err
	}
	writeSent(c, s)
	return nil
}

func (a *API) otpStepUp(c *call) error {
	req := c.body.(*wire.OTPStepUpRequest)
	iss, err := a.svc.OTP.StepUpOTP(c.r.Context(), c.actor, req.Channel, req.Code, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.TokenResponse{Token: iss.Token, ExpiresAt: iss.ExpiresAt})
	return nil
}

func wireContact(ci *parley.ContactInfo) wire.Contact {
	return wire.Contact{Channel: ci.Channel, Address: ci.Address, Verified: ci.Verified}
}

func (a *API) otpContacts(c *call) error {
	list, err := a.svc.OTP.Contacts(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.ContactList{Contacts: make([]wire.Contact, len(list))}
	for i := range list {
		out.Contacts[i] = wireContact(&list[i])
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) otpSetContact(c *call) error {
	req := c.body.(*wire.ContactRequest)
	s, err := a.svc.OTP.SetContact(c.r.Context(), c.actor, c.r.PathValue("channel"), req.Address, c.meta)
	if err != nil {
		return err
	}
	writeSent(c, s)
	return nil
}

func (a *API) otpConfirmContact(c *call) error {
	req := c.body.(*wire.OTPCodeRequest)
	ci, err := a.svc.OTP.ConfirmContact(c.r.Context(), c.actor, c.r.PathValue("channel"), req.Code, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireContact(ci))
	return nil
}

func (a *API) otpDeleteContact(c *call) error {
	if err := a.svc.OTP.DeleteContact(c.r.Context(), c.actor, c.r.PathValue("channel")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) otpSetUserContact(c *call) error {
	req := c.body.(*wire.ContactRequest)
	ci, err := a.svc.OTP.SetUserContact(c.r.Context(), c.actor, parley.UserID(c.r.PathValue("id")), c.r.PathValue("channel"), req.Address)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireContact(ci))
	return nil
}

func (a *API) pushBegin(c *call) error {
	req := c.body.(*wire.PushBeginRequest)
	b, err := a.svc.OTP.BeginPush(c.r.Context(), req.MFAToken, c.meta)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.PushBeginResponse{RequestID: b.RequestID, Number: b.Number, ExpiresAt: b.ExpiresAt})
	return nil
}

// pushPoll answers 202 while the request waits: a success status, because
// waiting is the normal course of the ceremony, and a client polls again on
// 202 without treating it as an error.
func (a *API) pushPoll(c *call) error {
	req := c.body.(*wire.PushPollRequest)
	p, err := a.svc.OTP.PollPush(c.r.Context(), req.MFAToken, req.RequestID, c.meta)
	if err != nil {
		return err
	}
	if p.Issued == nil {
		c.w.Header().Set("Retry-After", "2")
		writeJSON(c.w, http.StatusAccepted, wire.PushPollResponse{Status: wire.PushStatusPending})
		return nil
	}
	exp := p.Issued.ExpiresAt
	writeJSON(c.w, http.StatusOK, wire.PushPollResponse{Status: wire.PushStatusApproved, Token: p.Issued.Token, ExpiresAt: &exp})
	return nil
}

func (a *API) pushApprove(c *call) error {
	req := c.body.(*wire.PushApproveRequest)
	if err := a.svc.OTP.ApprovePush(c.r.Context(), c.actor, c.r.PathValue("id"), req.Number); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) pushDeny(c *call) error {
	if err := a.svc.OTP.DenyPush(c.r.Context(), c.actor, c.r.PathValue("id")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
