/**
 * Format checks for the values that end up in rendered Kubernetes objects. Each returns true when
 * the value is well formed; the option validators turn a false into a problem message.
 */

/** An RFC 1123 label: a namespace, Service or ConfigMap name (lowercase, digits, '-', at most 63). */
export function isDnsLabel(value: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value);
}

/** An RFC 1123 subdomain: a host name such as `predict.retail.example.com`. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(isDnsLabel);
}

/** An IPv4 CIDR block such as `10.0.0.0/16` (each octet 0–255, prefix 0–32). */
export function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  return octets.every((octet) => octet <= 255) && prefix <= 32;
}

/** A container registry host, optionally with a port: `ghcr.io`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `registry:5000`. */
export function isRegistryHost(value: string): boolean {
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/.test(value);
}

/** An image repository path below the registry: lowercase components separated by '/' (`example-org/retail-mlops-api`). */
export function isImageRepository(value: string): boolean {
  return /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(value);
}

/** An image tag as the OCI distribution spec defines it (at most 128 characters). */
export function isImageTag(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}

/** A content digest: `sha256:` and 64 lowercase hex digits. */
export function isImageDigest(value: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(value);
}

/** A GUID as Entra ID prints client and tenant ids. */
export function isGuid(value: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value);
}

/** An IAM role ARN, in any AWS partition. */
export function isIamRoleArn(value: string): boolean {
  return /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(value);
}

/** An ACM certificate ARN, in any AWS partition. */
export function isAcmCertificateArn(value: string): boolean {
  return /^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(value);
}

/** A Key Vault certificate or secret URI, unversioned or versioned: `https://<vault>.vault.azure.net/certificates/<name>`. */
export function isKeyVaultCertificateUri(value: string): boolean {
  return /^https:\/\/[a-z0-9-]{3,24}\.vault\.azure\.(net|cn|us)\/(certificates|secrets)\/[A-Za-z0-9-]{1,127}(\/[0-9a-f]{32})?$/.test(value);
}

/** A git remote Argo CD can clone: `https://…` or `ssh://…` / `git@host:org/repo.git`. */
export function isGitRepositoryUrl(value: string): boolean {
  return /^(https:\/\/[^\s/]+\/\S+|ssh:\/\/\S+|git@[^\s:]+:\S+)$/.test(value);
}
