package emulator

import (
	"encoding/json"
	"net/http"
)

// apiError is one Gmail error response. Its JSON form is Google's envelope
// {"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}
// (Gmail "Resolve errors" guide; googleapi.Error in google.golang.org/api).
type apiError struct {
	Code         int
	Message      string // the top-level message
	ItemMessage  string // errors[0].message; empty means Message
	Domain       string // empty means "global"
	Reason       string
	Location     string
	LocationType string
	Details      []errorInfo
	Header       http.Header
}

// errorInfo is a google.rpc.ErrorInfo entry of error.details.
type errorInfo struct {
	Reason string
	Method string // the RPC name that Google reports in metadata.method
}

type errorItem struct {
	Message      string `json:"message"`
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status"`
	Details []any       `json:"details,omitempty"`
}

// statusNames maps HTTP codes to the google.rpc.Code names that real Gmail
// responses carry in error.status.
var statusNames = map[int]string{
	http.StatusBadRequest:            "INVALID_ARGUMENT",
	http.StatusUnauthorized:          "UNAUTHENTICATED",
	http.StatusForbidden:             "PERMISSION_DENIED",
	http.StatusNotFound:              "NOT_FOUND",
	http.StatusConflict:              "ALREADY_EXISTS",
	http.StatusRequestEntityTooLarge: "INVALID_ARGUMENT",
	http.StatusTooManyRequests:       "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError:   "INTERNAL",
}

func (e *apiError) body() errorBody {
	item := errorItem{
		Message:      e.ItemMessage,
		Domain:       e.Domain,
		Reason:       e.Reason,
		Location:     e.Location,
		LocationType: e.LocationType,
	}
	if item.Message == "" {
		item.Message = e.Message
	}
	if item.Domain == "" {
		item.Domain = "global"
	}
	b := errorBody{
		Code:    e.Code,
		Message: e.Message,
		Errors:  []errorItem{item},
		Status:  statusNames[e.Code],
	}
	for _, d := range e.Details {
		b.Details = append(b.Details, map[string]any{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": d.Reason,
			"domain": "googleapis.com",
			"metadata": map[string]string{
				"service": "gmail.googleapis.com",
				"method":  d.Method,
			},
		})
	}
	return b
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeJSON(w, e.Code, map[string]errorBody{"error": e.body()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// Gmail error constructors, each with the text real Gmail sends.

// errNotFound is Gmail's response for an unknown id and for a startHistoryId
// that is too old (users.history.list reference: "typically returns an HTTP 404").
func errNotFound() *apiError {
	return &apiError{Code: http.StatusNotFound, Message: "Requested entity was not found.", Reason: "notFound"}
}

// errInvalidArgument is a 400 with reason invalidArgument, the reason Gmail
// uses for "Invalid id value", "Invalid thread_id value" and a missing
// recipient (observed in public client reports).
func errInvalidArgument(msg string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Message: msg, Reason: "invalidArgument"}
}

// errBadRequest is a 400 with reason badRequest, used by Google's upload
// front end, e.g. for an unsupported media type (google-api-go-client#778).
func errBadRequest(msg string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Message: msg, Reason: "badRequest"}
}

// errForbidden is a 403 with reason forbidden, as for the gmail.metadata
// scope's refusal of q (googleworkspace/cli#174).
func errForbidden(msg string) *apiError {
	return &apiError{Code: http.StatusForbidden, Message: msg, Reason: "forbidden"}
}

// writeTooLarge writes the HTML 413 page that Google's front end returns for
// a JSON request body it will not accept (google-api-go-client#374): the Go
// client surfaces it as a *googleapi.Error with Code 413 and the page as Body.
func writeTooLarge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = w.Write([]byte("<!DOCTYPE html>\n<html lang=en><title>Error 413 (Request Entity Too Large)!!1</title>" +
		"<p><b>413.</b> <ins>That’s an error.</ins><p>Your client issued a request that was too large. <ins>That’s all we know.</ins>\n"))
}
