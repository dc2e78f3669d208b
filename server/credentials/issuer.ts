import type { GrantRecord } from '../domain/records.js';
import type { Resource } from '../policy/types.js';

/** A credential as an issuer hands it out: the secret, and when it stops working. */
export interface IssuedCredential {
  readonly secret: Record<string, unknown>;
  /** The grant's expiry at the latest; earlier for a credential the owner's client renews. */
  readonly expiresAt: Date;
}

/**
 * Turns an active grant into something its owner can use. The built-in issuer signs a JWT; issuers that
 * provision real access (a database login, a seat in a SaaS tool) also implement `access`.
 */
export interface CredentialIssuer {
  /** The credential's `kind` in API responses. */
  readonly kind: string;
  /** The credential handed to the grant's owner; called for every fetch while the grant is active. */
  issue(grant: GrantRecord): Promise<IssuedCredential>;
  /** Present when the issuer creates access outside the service that must also disappear. */
  readonly access?: AccessProvisioner;
}

/** The grant an access operation is about. */
export interface AccessTarget {
  readonly grantId: string;
  readonly userId: string;
  readonly resourceId: string;
  readonly role: string;
  /** The moment the access must stop working on its own, even if Timebox never comes back. */
  readonly expiresAt: Date;
}

/** Audit details of an operation that worked (never a secret). */
export type AccessOutcome = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Access that exists outside the service. The service calls these from its durable task queue: again
 * after a failure (with backoff), after a crash, on another instance. So each must be idempotent, and
 * `revoke` must succeed for access that never existed.
 */
export interface AccessProvisioner {
  /** Makes the access exist until `target.expiresAt`: at activation and after every extension. */
  provision(target: AccessTarget): Promise<AccessOutcome>;
  /** Removes the access and ends every use of it in progress. */
  revoke(target: Pick<AccessTarget, 'grantId' | 'resourceId' | 'role'>): Promise<AccessOutcome>;
  /** Grant ids whose access exists now: at start, whatever has no active grant behind it is revoked. */
  provisionedGrantIds(): Promise<string[]>;
  /**
   * How many sessions each grant's access has open now, for grants whose access is in use (absent:
   * not in use, or not known). Optional: insights sample it to tell access used from access never used.
   */
  openSessions?(grantIds: readonly string[]): Promise<Map<string, number>>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Builds the issuer for one resource of the kind it is registered for. */
export type IssuerFactory = (resource: Resource) => CredentialIssuer;

/**
 * The issuer of each resource: the one built for it by the factory registered for its kind, or the
 * built-in token issuer. Built once at start, so a resource's connections are shared by all its grants.
 */
export class IssuerRegistry {
  private readonly byResource = new Map<string, CredentialIssuer>();

  constructor(
    private readonly fallback: CredentialIssuer,
    resources: Iterable<Resource>,
    factories: ReadonlyMap<string, IssuerFactory>,
  ) {
    for (const resource of resources) {
      const factory = factories.get(resource.kind);
      if (factory) this.byResource.set(resource.id, factory(resource));
    }
  }

  forResource(resourceId: string): CredentialIssuer {
    return this.byResource.get(resourceId) ?? this.fallback;
  }

  /** Every provisioner, with the resource it serves. */
  provisioners(): [resourceId: string, provisioner: AccessProvisioner][] {
    return [...this.byResource].flatMap(([resourceId, issuer]) =>
      issuer.access ? [[resourceId, issuer.access] as [string, AccessProvisioner]] : [],
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.provisioners().map(([, provisioner]) => provisioner.close()));
  }
}
