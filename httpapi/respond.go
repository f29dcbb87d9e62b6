package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[parley.Code]int{
	parley.CodeInvalid:               http.StatusBadRequest,
	parley.CodeUnauthenticated:       http.StatusUnauthorized,
	parley.CodeMFARequired:           http.StatusUnauthorized,
	parley.CodeForbidden:             http.StatusForbidden,
	parley.CodeStepUpRequired:        http.StatusForbidden,
	parley.CodeMFAEnrollmentRequired: http.StatusForbidden,
	parley.CodeNotFound:              http.StatusNotFound,
	parley.CodeConflict:              http.StatusConflict,
	parley.CodeTooLarge:              http.StatusRequestEntityTooLarge,
	parley.CodeLocked:                http.StatusLocked,
	parley.CodeRateLimited:           http.StatusTooManyRequests,
	parley.CodeUnavailable:           http.StatusServiceUnavailable,
	parley.CodeInternal:              http.StatusInternalServerError,

	// A3: an expired password limits the session to changing it.
	parley.CodePasswordChangeRequired: http.StatusForbidden,
}

// HTTPStatus returns the status for an error code.
func HTTPStatus(c parley.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeError answers with the error shape of API-CORE.md. Internal causes
// are logged here and never sent.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	if code == parley.CodeInternal {
		a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if d := parley.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+999_999_999)/1_000_000_000)))
	}
	if code == parley.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	writeJSON(w, HTTPStatus(code), wire.ErrorBody{Error: wire.ErrorDetail{Code: string(code), Message: parley.ErrorMessage(err)}})
}

// decodeError turns a wire.DecodeError into the API's invalid/too_large.
func decodeError(err error) error {
	var de *wire.DecodeError
	if errors.As(err, &de) {
		if de.TooLarge {
			return parley.Errorf(parley.CodeTooLarge, "%s", de.Msg)
		}
		return parley.Errorf(parley.CodeInvalid, "%s", de.Msg)
	}
	return parley.Errorf(parley.CodeInvalid, "could not read request")
}
