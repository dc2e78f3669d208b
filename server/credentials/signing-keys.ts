import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database } from '../db/database.js';
import type { Clock } from '../../api/clock.js';

export const SIGNING_ALGORITHM = 'EdDSA';

interface KeyRow {
  readonly kid: string;
  readonly private_jwk: JWK;
  readonly created_at: Date;
}

interface SigningKey {
  readonly kid: string;
  readonly key: CryptoKey | Uint8Array;
  readonly createdAt: number;
}

/**
 * Ed25519 signing keys, kept in the database so they survive restarts and are shared by every instance.
 * The newest key signs until it is older than the rotation period; then a new one takes over and the old
 * one is retired. A retired key stays in the JWKS until the last token it signed has expired.
 */
const EXPIRY_GRANULARITY_MS = 10 * 60_000;

export class SigningKeys {
  private current: SigningKey | null = null;
  /** Per key, the latest `exp` already written to the database, to skip needless writes. */
  private readonly recordedExpiry = new Map<string, number>();
  /** Public keys by kid, as introspection verifies with them; a key never changes once made. */
  private readonly publicKeys = new Map<string, CryptoKey | Uint8Array>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly rotationSeconds: number,
  ) {}

  async signingKey(): Promise<SigningKey> {
    const now = this.clock.now();
    if (this.current && now - this.current.createdAt < this.rotationSeconds * 1000) return this.current;
    this.current = await this.currentOrRotate(now);
    return this.current;
  }

  /**
   * Keeps `kid` published until at least `expiresAt`, the expiry of a token it just signed. The time is
   * rounded up to the next ten minutes, so a key signing steadily is written down a few times an hour
   * rather than at every fetch; it stays published at most ten minutes longer than it must.
   */
  async recordTokenExpiry(kid: string, expiresAt: Date): Promise<void> {
    const ms = Math.ceil(expiresAt.getTime() / EXPIRY_GRANULARITY_MS) * EXPIRY_GRANULARITY_MS;
    if ((this.recordedExpiry.get(kid) ?? 0) >= ms) return;
    await this.db.query(
      `UPDATE signing_keys SET last_token_expires_at = greatest(coalesce(last_token_expires_at, $2), $2) WHERE kid = $1`,
      [kid, new Date(ms)],
    );
    this.recordedExpiry.set(kid, ms);
  }

  /**
   * The public key `kid` names, from any instance, or null when no key of ours has that id. Read from the
   * database once per kid, then kept: a verification costs no round trip.
   */
  async verificationKey(kid: string): Promise<CryptoKey | Uint8Array | null> {
    const known = this.publicKeys.get(kid);
    if (known) return known;
    const [row] = await this.db.query<{ public_jwk: JWK }>(
      'SELECT public_jwk FROM signing_keys WHERE kid = $1',
      [kid],
    );
    if (!row) return null;
    const key = await importJWK(row.public_jwk, SIGNING_ALGORITHM);
    this.publicKeys.set(kid, key);
    return key;
  }

  async publishedKeys(): Promise<JWK[]> {
    const rows = await this.db.query<{ kid: string; public_jwk: JWK }>(
      `SELECT kid, public_jwk FROM signing_keys
        WHERE retired_at IS NULL OR last_token_expires_at > $1 ORDER BY created_at DESC`,
      [new Date(this.clock.now())],
    );
    return rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: SIGNING_ALGORITHM, use: 'sig' }));
  }

  private async currentOrRotate(now: number): Promise<SigningKey> {
    const row = await this.db.transaction(async (sql) => {
      // Two instances that find the key stale at once would each make one; the lock lets one do it.
      await sql.query(`SELECT pg_advisory_xact_lock(hashtext('timebox:signing-keys'))`);
      const [newest] = await sql.query<KeyRow>(
        'SELECT kid, private_jwk, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
      );
      if (newest && now - newest.created_at.getTime() < this.rotationSeconds * 1000) return newest;
      const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, {
        crv: 'Ed25519',
        extractable: true,
      });
      const publicJwk = await exportJWK(publicKey);
      const kid = `${new Date(now).toISOString().slice(0, 10)}-${(publicJwk.x ?? '').slice(0, 8)}`;
      const created: KeyRow = { kid, private_jwk: await exportJWK(privateKey), created_at: new Date(now) };
      await sql.query('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL', [new Date(now)]);
      await sql.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)`,
        [
          kid,
          SIGNING_ALGORITHM,
          JSON.stringify(publicJwk),
          JSON.stringify(created.private_jwk),
          created.created_at,
        ],
      );
      return created;
    });
    return {
      kid: row.kid,
      key: await importJWK(row.private_jwk, SIGNING_ALGORITHM),
      createdAt: row.created_at.getTime(),
    };
  }
}
