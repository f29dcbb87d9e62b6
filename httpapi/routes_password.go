package httpapi

// passwordRoutes are the operations of the password feature (identity issue).
func (a *API) passwordRoutes() []*route {
	if a.svc.Passwords == nil {
		return nil
	}
	return nil
}
