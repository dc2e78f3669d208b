import type { GrantRecord } from '../domain/records.js';

/**
 * Turns an active grant into something its owner can use. The built-in issuer signs a JWT; issuers that
 * provision real access (a database role, a seat in a SaaS tool) plug in by resource kind.
 */
export interface CredentialIssuer {
  /** The credential's `kind` in API responses. */
  readonly kind: string;
  /** The secret handed to the grant's owner; called for every fetch while the grant is active. */
  issue(grant: GrantRecord): Promise<Record<string, unknown>>;
}

export class IssuerRegistry {
  private readonly byResourceKind = new Map<string, CredentialIssuer>();

  constructor(private readonly fallback: CredentialIssuer) {}

  register(resourceKind: string, issuer: CredentialIssuer): void {
    this.byResourceKind.set(resourceKind, issuer);
  }

  forResourceKind(resourceKind: string): CredentialIssuer {
    return this.byResourceKind.get(resourceKind) ?? this.fallback;
  }
}
