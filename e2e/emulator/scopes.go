package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// Scope URLs (discovery document gmail:v1, auth.oauth2.scopes).
const (
	scopeMail             = "https://mail.google.com/"
	scopePrefix           = "https://www.googleapis.com/auth/"
	scopeModify           = scopePrefix + "gmail.modify"
	scopeReadonly         = scopePrefix + "gmail.readonly"
	scopeMetadata         = scopePrefix + "gmail.metadata"
	scopeCompose          = scopePrefix + "gmail.compose"
	scopeSend             = scopePrefix + "gmail.send"
	scopeSendSelf         = scopePrefix + "gmail.send.self"
	scopeLabels           = scopePrefix + "gmail.labels"
	scopeLabelsReadonly   = scopePrefix + "gmail.labels.readonly"
	scopeLabelsCreate     = scopePrefix + "gmail.labels.create"
	scopeMessages         = scopePrefix + "gmail.messages"
	scopeMessagesReadonly = scopePrefix + "gmail.messages.readonly"
	scopeMessagesModify   = scopePrefix + "gmail.messages.modify"
	scopeMessagesDelete   = scopePrefix + "gmail.messages.delete"
)

// knownScopes are the scopes the authorization endpoint grants. Anything
// else is refused with invalid_scope.
var knownScopes = map[string]bool{
	scopeMail: true, scopeModify: true, scopeReadonly: true, scopeMetadata: true,
	scopeCompose: true, scopeSend: true, scopeSendSelf: true, scopeLabels: true,
	scopeLabelsReadonly: true, scopeLabelsCreate: true, scopeMessages: true,
	scopeMessagesReadonly: true, scopeMessagesModify: true, scopeMessagesDelete: true,
	scopePrefix + "gmail.insert": true, scopePrefix + "gmail.settings.basic": true,
	scopePrefix + "gmail.drafts": true, scopePrefix + "gmail.drafts.readonly": true,
	"openid": true, "email": true, "profile": true,
	scopePrefix + "userinfo.email": true, scopePrefix + "userinfo.profile": true,
}

// methodScopes lists, per Gmail method, the scopes of which any one is
// enough (discovery document gmail:v1 revision 20261106, each method's
// "scopes" list).
var methodScopes = map[string][]string{
	"getProfile":               {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeCompose},
	"labels.list":              {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeLabels, scopeLabelsReadonly},
	"labels.get":               {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeLabels, scopeLabelsReadonly},
	"labels.create":            {scopeMail, scopeModify, scopeLabels, scopeLabelsCreate},
	"messages.list":            {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeMessages, scopeMessagesReadonly},
	"messages.get":             {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeMessages, scopeMessagesReadonly},
	"messages.attachments.get": {scopeMail, scopeModify, scopeReadonly, scopeMessages, scopeMessagesReadonly},
	"messages.send":            {scopeMail, scopeModify, scopeCompose, scopeSend, scopeSendSelf},
	"messages.modify":          {scopeMail, scopeModify, scopeMessages, scopeMessagesModify, scopeMessagesDelete},
	"messages.batchModify":     {scopeMail, scopeModify, scopeMessages, scopeMessagesModify, scopeMessagesDelete},
	"messages.trash":           {scopeMail, scopeModify, scopeMessages, scopeMessagesDelete},
	"messages.untrash":         {scopeMail, scopeModify, scopeMessages, scopeMessagesDelete},
	"messages.delete":          {scopeMail, scopeMessages, scopeMessagesDelete},
	"messages.batchDelete":     {scopeMail, scopeMessages, scopeMessagesDelete},
	"history.list":             {scopeMail, scopeModify, scopeReadonly, scopeMetadata, scopeMessages, scopeMessagesReadonly},
}

// rpcNames are the method names Google reports in ErrorInfo metadata.
var rpcNames = map[string]string{
	"getProfile":    "caribou.api.proto.MailboxService.GetProfile",
	"labels.list":   "caribou.api.proto.MailboxService.ListLabels",
	"labels.get":    "caribou.api.proto.MailboxService.GetLabel",
	"messages.list": "caribou.api.proto.MailboxService.ListMessages",
	"messages.get":  "caribou.api.proto.MailboxService.GetMessage",
	"messages.send": "caribou.api.proto.MailboxService.SendMessage",
	"history.list":  "caribou.api.proto.MailboxService.ListHistory",
}

func rpcName(method string) string {
	if n, ok := rpcNames[method]; ok {
		return n
	}
	// NOTE: only the names above were seen in public error reports; the
	// others follow the same pattern but are guesses.
	parts := strings.Split(method, ".")
	last := parts[len(parts)-1]
	return "caribou.api.proto.MailboxService." + strings.ToUpper(last[:1]) + last[1:]
}

func scopeAllows(method string, granted []string) bool {
	for _, sc := range methodScopes[method] {
		if slices.Contains(granted, sc) {
			return true
		}
	}
	return false
}

// hasMetadataScope reports whether gmail.metadata was granted. Gmail applies
// that scope's limits (no q, no format full or raw) even when a broader scope
// is granted too (google-api-python-client#582, googleworkspace/cli#265).
func hasMetadataScope(granted []string) bool {
	return slices.Contains(granted, scopeMetadata)
}

// Authentication errors of the Gmail API, with the bodies Google sends.

const authRealm = `Bearer realm="https://accounts.google.com/"`

// errMissingCredentials is the 401 for a request without a token: reason
// required, "Login Required.", details CREDENTIALS_MISSING (observed).
func errMissingCredentials(method string) *apiError {
	return &apiError{
		Code:         http.StatusUnauthorized,
		Message:      "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
		ItemMessage:  "Login Required.",
		Reason:       "required",
		Location:     "Authorization",
		LocationType: "header",
		Details:      []errorInfo{{Reason: "CREDENTIALS_MISSING", Method: rpcName(method)}},
		Header:       http.Header{"Www-Authenticate": {authRealm}},
	}
}

// errInvalidCredentials is the 401 for an unknown, revoked or expired token,
// with WWW-Authenticate error="invalid_token" (observed).
func errInvalidCredentials(expired bool, method string) *apiError {
	e := &apiError{
		Code:         http.StatusUnauthorized,
		Message:      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
		ItemMessage:  "Invalid Credentials",
		Reason:       "authError",
		Location:     "Authorization",
		LocationType: "header",
		Header:       http.Header{"Www-Authenticate": {authRealm + `, error="invalid_token"`}},
	}
	if expired {
		// NOTE: the details reason for an unknown token varies in reports,
		// so only the expired case carries one.
		e.Details = []errorInfo{{Reason: "ACCESS_TOKEN_EXPIRED", Method: rpcName(method)}}
	}
	return e
}

// errInsufficientScope is the 403 for a token without a scope the method
// lists (observed body: insufficientPermissions, ACCESS_TOKEN_SCOPE_INSUFFICIENT).
func errInsufficientScope(method string) *apiError {
	return &apiError{
		Code:        http.StatusForbidden,
		Message:     "Request had insufficient authentication scopes.",
		ItemMessage: "Insufficient Permission",
		Reason:      "insufficientPermissions",
		Details:     []errorInfo{{Reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT", Method: rpcName(method)}},
		Header: http.Header{"Www-Authenticate": {authRealm +
			`, error="insufficient_scope", scope="` + strings.Join(methodScopes[method], " ") + `"`}},
	}
}

// bearerToken returns the access token from the Authorization header or the
// access_token query parameter, which Google accepts on every method.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}
