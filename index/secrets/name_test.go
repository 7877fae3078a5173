package secrets

import "testing"

func TestSkipName(t *testing.T) {
	tests := []struct {
		rel        string
		wantSkip   bool
		wantReason string
	}{
		{".env", true, "environment file"},
		{"app/.env", true, "environment file"},
		{".env.local", true, "environment file"},
		{".env.production", true, "environment file"},
		{"deploy/prod.env", true, "environment file"},
		{".env.example", false, ""},
		{".env.sample", false, ""},
		{"config/.env.template", false, ""},
		{".ENV", true, "environment file"},
		{"home/.ssh/id_rsa", true, "private key"},
		{"id_ed25519", true, "private key"},
		{"id_ed25519.pub", false, ""},
		{"certs/server.pem", true, "private key"},
		{"tls/server.key", true, "private key"},
		{"store.p12", true, "private key"},
		{"store.pfx", true, "private key"},
		{"android/release.keystore", true, "private key"},
		{"java/trust.jks", true, "private key"},
		{".netrc", true, "credential file"},
		{".npmrc", true, "credential file"},
		{".pypirc", true, "credential file"},
		{".git-credentials", true, "credential file"},
		{".aws/credentials", true, "credential file"},
		{"credentials.json", true, "credential file"},
		{"infra/prod.tfvars", true, "terraform variables"},
		{"infra/terraform.tfstate", true, "terraform state"},
		{"infra/terraform.tfstate.backup", true, "terraform state"},
		{"k8s/secrets.yaml", true, "credential file"},
		{"gcp/service-account-prod.json", true, "credential file"},
		{"service-account.json", true, "credential file"},
		{"kubeconfig", true, "kubeconfig"},
		{"ops/.kube/config", true, "kubeconfig"},
		{`win\.docker\config.json`, true, "credential file"},
		{"main.go", false, ""},
		{"keys.go", false, ""},
		{"internal/secrets/scan.go", false, ""},
		{"credentials.go", false, ""},
		{"docs/environment.md", false, ""},
		{"config.json", false, ""},
		{"key", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			skip, reason := SkipName(tt.rel)
			if skip != tt.wantSkip || reason != tt.wantReason {
				t.Errorf("SkipName(%q) = %v, %q, want %v, %q", tt.rel, skip, reason, tt.wantSkip, tt.wantReason)
			}
		})
	}
}
