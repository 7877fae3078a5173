// Package secrets finds credentials in file names and text so they never enter the index or leave the machine.
//
// SkipName decides from a path alone that a file holds credentials (an .env
// file, a private key, a credentials file) and must not be read at all. Scan
// and Mask look inside text that is about to be indexed or sent to a model and
// find credential-shaped values: PEM private-key blocks, provider tokens with a
// recognisable prefix (AWS, GCP, Azure, GitHub, Slack, OpenAI, Anthropic,
// Stripe, JWTs), passwords in URLs (postgres://user:pw@host) and
// high-entropy values assigned to names such as password, secret or apiKey.
//
// The rules favour precision on ordinary source code: hex digests, UUIDs,
// identifiers and placeholder values (xxx, changeme, <your-key>, EXAMPLE keys)
// are not findings. A PEM private key is always a finding, even in a test file,
// because it is a real key shape.
package secrets

import (
	"path"
	"strings"
)

// envTemplates are .env variants that by convention hold no real values.
var envTemplates = map[string]bool{
	".env.example":  true,
	".env.sample":   true,
	".env.template": true,
	".env.dist":     true,
	".env.defaults": true,
}

// credentialNames are exact base names (lower case) of files that hold
// credentials, with the reason reported for each.
var credentialNames = map[string]string{
	"id_rsa":             "private key",
	"id_dsa":             "private key",
	"id_ecdsa":           "private key",
	"id_ed25519":         "private key",
	"id_ecdsa_sk":        "private key",
	"id_ed25519_sk":      "private key",
	".netrc":             "credential file",
	"_netrc":             "credential file",
	".npmrc":             "credential file",
	".pypirc":            "credential file",
	".git-credentials":   "credential file",
	".pgpass":            "credential file",
	".htpasswd":          "credential file",
	".s3cfg":             "credential file",
	"credentials":        "credential file",
	"credentials.json":   "credential file",
	"credentials.yaml":   "credential file",
	"credentials.yml":    "credential file",
	"credentials.xml":    "credential file",
	"secrets.yaml":       "credential file",
	"secrets.yml":        "credential file",
	"secrets.json":       "credential file",
	"secrets.toml":       "credential file",
	"secret.yaml":        "credential file",
	"secret.yml":         "credential file",
	"secret.json":        "credential file",
	"kubeconfig":         "kubeconfig",
	"kubeconfig.yaml":    "kubeconfig",
	"kubeconfig.yml":     "kubeconfig",
	"terraform.tfstate":  "terraform state",
	"token.json":         "credential file",
	"master.key":         "private key",
	"client_secret.json": "credential file",
}

// credentialExts are file extensions (lower case, with the dot) of files that
// hold keys or credentials.
var credentialExts = map[string]string{
	".pem":      "private key",
	".key":      "private key",
	".p12":      "private key",
	".pfx":      "private key",
	".keystore": "private key",
	".jks":      "private key",
	".ppk":      "private key",
	".tfvars":   "terraform variables",
	".tfstate":  "terraform state",
	".env":      "environment file",
}

// SkipName reports whether the file at relPath (slash- or OS-separated,
// relative to a workspace root) must never be read because its name says it
// holds credentials. reason is a short human-readable explanation.
func SkipName(relPath string) (skip bool, reason string) {
	rel := strings.ReplaceAll(relPath, "\\", "/")
	base := strings.ToLower(path.Base(rel))
	switch {
	case base == ".env":
		return true, "environment file"
	case strings.HasPrefix(base, ".env."):
		if envTemplates[base] {
			return false, ""
		}
		return true, "environment file"
	}
	if r, ok := credentialNames[base]; ok {
		return true, r
	}
	if strings.HasPrefix(base, "service-account") && strings.HasSuffix(base, ".json") {
		return true, "credential file"
	}
	if strings.HasPrefix(base, "client_secret") && strings.HasSuffix(base, ".json") {
		return true, "credential file"
	}
	if strings.HasSuffix(base, ".tfstate.backup") {
		return true, "terraform state"
	}
	if ext := path.Ext(base); ext != "" {
		if r, ok := credentialExts[ext]; ok {
			return true, r
		}
	}
	// Directory-qualified names: ~/.kube/config and ~/.docker/config.json
	// copied into a workspace.
	lower := strings.ToLower(rel)
	switch {
	case lower == ".kube/config" || strings.HasSuffix(lower, "/.kube/config"):
		return true, "kubeconfig"
	case lower == ".docker/config.json" || strings.HasSuffix(lower, "/.docker/config.json"):
		return true, "credential file"
	}
	return false, ""
}
