package httpapi

// webauthnRoutes are the operations of the webauthn feature (identity issue).
func (a *API) webauthnRoutes() []*route {
	if a.svc.WebAuthn == nil {
		return nil
	}
	return nil
}
