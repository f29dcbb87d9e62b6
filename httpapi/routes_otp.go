package httpapi

// otpRoutes are the operations of the otp feature (identity issue).
func (a *API) otpRoutes() []*route {
	if a.svc.OTP == nil {
		return nil
	}
	return nil
}
