package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// clientSecretFile is the "installed" client_secret.json that Google Cloud
// gives a Desktop app client; google.ConfigFromJSON reads client_id,
// client_secret, auth_uri, token_uri and redirect_uris[0].
type clientSecretFile struct {
	Installed clientSecret `json:"installed"`
}

type clientSecret struct {
	ClientID                string   `json:"client_id"`
	ProjectID               string   `json:"project_id"`
	AuthURI                 string   `json:"auth_uri"`
	TokenURI                string   `json:"token_uri"`
	AuthProviderX509CertURL string   `json:"auth_provider_x509_cert_url"`
	ClientSecret            string   `json:"client_secret"`
	RedirectURIs            []string `json:"redirect_uris"`
}

// WriteClientSecret writes a client_secret.json for the registered client
// whose auth_uri and token_uri point at this server, so that a client reads
// the emulator's endpoints from the file as it would read Google's. It needs
// a started server. The file is written atomically with mode 0600.
func (s *Server) WriteClientSecret(path string) error {
	base := s.BaseURL()
	if base == "" {
		return errors.New("writing client secret: server not started")
	}
	data, err := json.MarshalIndent(clientSecretFile{Installed: clientSecret{
		ClientID:                s.opts.ClientID,
		ProjectID:               "gmsync-emulator",
		AuthURI:                 base + "o/oauth2/auth",
		TokenURI:                base + "token",
		AuthProviderX509CertURL: base + "oauth2/v1/certs",
		ClientSecret:            s.opts.ClientSecret,
		RedirectURIs:            []string{"http://localhost"},
	}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding client secret: %w", err)
	}
	if err := WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("writing client secret %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes data to path with mode 0600 so that readers see the
// old file or the whole new one: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()

	if err = tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}

	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
