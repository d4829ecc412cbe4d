package main

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AppSecret is the app's Secrets Manager secret; the Lambda gets its ARN only.
type AppSecret struct {
	Arn     pulumi.StringOutput
	Version *secretsmanager.SecretVersion
}

// newAppSecret stores the app's keys as one JSON secret. The keys are the contract
// with the app's config loader.
func newAppSecret(ctx *pulumi.Context, cfg Config) (*AppSecret, error) {
	opt, err := newLayer(ctx, "Secrets", "secrets")
	if err != nil {
		return nil, err
	}
	recovery := 30
	if !cfg.Production {
		// Staging is torn down and rebuilt; a 30-day recovery window would block
		// re-creating a secret of the same name.
		recovery = 0
	}
	secret, err := secretsmanager.NewSecret(ctx, "app", &secretsmanager.SecretArgs{
		Name:                 pulumi.String("miyabi/" + cfg.Stack + "/app"),
		Description:          pulumi.String("Miyabi app keys: JWT signing, token encryption, GitHub client secret, CloudFront origin secret, GitHub App key and webhook secret"),
		RecoveryWindowInDays: pulumi.Int(recovery),
	}, opt)
	if err != nil {
		return nil, err
	}
	keys := map[string]string{
		"jwt_signing_key":      cfg.Secrets.JWTSigningKey,
		"token_encryption_key": cfg.Secrets.TokenEncryptionKey,
		"github_client_secret": cfg.Secrets.GitHubClientSecret,
		"origin_verify_secret": cfg.Secrets.OriginVerifySecret,
	}
	// During a rotation (docs/ops.md): the retiring values, still accepted by the app; and
	// the GitHub App's, when the stack has one.
	for k, v := range map[string]string{
		"jwt_signing_key_previous":      cfg.Secrets.JWTSigningKeyPrevious,
		"token_encryption_key_previous": cfg.Secrets.TokenEncryptionKeyPrevious,
		"origin_verify_secret_previous": cfg.Secrets.OriginVerifySecretPrevious,
		"github_app_private_key":        cfg.Secrets.GitHubAppPrivateKey,
		"github_webhook_secret":         cfg.Secrets.GitHubWebhookSecret,
	} {
		if v != "" {
			keys[k] = v
		}
	}
	body, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	version, err := secretsmanager.NewSecretVersion(ctx, "app", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(pulumi.String(string(body))).(pulumi.StringOutput),
	}, opt)
	if err != nil {
		return nil, err
	}
	return &AppSecret{Arn: secret.Arn, Version: version}, nil
}
