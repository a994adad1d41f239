package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gmsync/gmsync/internal/sysexits"
)

func TestRevoke(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.RawQuery != "" {
			http.Error(w, "want the token in a form body", http.StatusBadRequest)
			return
		}
		tok := r.PostForm.Get("token")
		got = append(got, tok)
		w.Header().Set("Content-Type", "application/json")
		switch tok {
		case "1//live":
			w.Write([]byte("{}"))
		case "1//busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_token","error_description":"Token expired or revoked"}`))
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	if err := Revoke(ctx, srv.URL, "1//live"); err != nil {
		t.Errorf("Revoke(live token) = %v", err)
	}
	if err := Revoke(ctx, srv.URL, "1//gone"); !errors.Is(err, ErrAlreadyRevoked) {
		t.Errorf("Revoke(revoked token) = %v, want ErrAlreadyRevoked", err)
	}
	err := Revoke(ctx, srv.URL, "1//busy")
	if sysexits.Code(err) != sysexits.TempFail || strings.Contains(err.Error(), "1//busy") {
		t.Errorf("Revoke() with a 503 = %v, want exit 75 without the token", err)
	}
	if diff := cmp.Diff([]string{"1//live", "1//gone", "1//busy"}, got); diff != "" {
		t.Errorf("tokens received by the revoke endpoint mismatch (-want +got):\n%s", diff)
	}

	srv.Close()
	if err := Revoke(ctx, srv.URL, "1//live"); sysexits.Code(err) != sysexits.TempFail {
		t.Errorf("Revoke() with the endpoint down = %v, want exit 75", err)
	}
}

func TestPurposeScopes(t *testing.T) {
	tests := []struct {
		p    Purpose
		push bool
		want []string
	}{
		{Send, false, []string{ScopeSend}},
		{Send, true, []string{ScopeSend}},
		{Sync, false, []string{ScopeReadonly}},
		{Sync, true, []string{ScopeModify}},
	}
	for _, tt := range tests {
		if got := tt.p.ScopesFor(tt.push); !cmp.Equal(got, tt.want) {
			t.Errorf("%s.ScopesFor(%t) = %v, want %v", tt.p, tt.push, got, tt.want)
		}
	}
}

func TestParsePurposes(t *testing.T) {
	got, err := ParsePurposes("sync, send,sync")
	if err != nil || !cmp.Equal(got, []Purpose{Sync, Send}) {
		t.Errorf(`ParsePurposes("sync, send,sync") = %v, %v, want [sync send]`, got, err)
	}
	if _, err := ParsePurposes("send,read"); err == nil || !strings.Contains(err.Error(), `"read"`) {
		t.Errorf(`ParsePurposes("send,read") = %v, want an error naming "read"`, err)
	}
}
