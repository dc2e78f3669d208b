import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { secretReference } from './schema.js';

/** Where a policy names its secrets from, and the problems reading them runs into. */
export interface SecretSource {
  /** Secret files are resolved relative to its folder. */
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
}

export type Path = readonly PropertyKey[];

export interface Problem {
  readonly path: Path;
  readonly message: string;
}

const BASE32_SECRET = /^[A-Z2-7]{16,}=*$/;

/** The text a secret reference points at: an environment variable, or a file beside the policy. */
export function readSecret(
  reference: z.output<typeof secretReference>,
  source: SecretSource,
  path: Path,
  problems: Problem[],
): string | null {
  if ('env' in reference) {
    const value = source.env[reference.env];
    if (value === undefined || value.trim() === '') {
      problems.push({ path: [...path, 'env'], message: `environment variable ${reference.env} is not set` });
      return null;
    }
    return value;
  }
  const file = resolve(source.file, '..', reference.file);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ path: [...path, 'file'], message: `cannot read ${file} (${describeIoError(error)})` });
    return null;
  }
}

/** A postgres:// admin URL. The message never repeats the value: it holds a password. */
export function readPostgresUrl(
  reference: z.output<typeof secretReference>,
  source: SecretSource,
  path: Path,
  problems: Problem[],
): URL | null {
  const value = readSecret(reference, source, path, problems);
  if (value === null) return null;
  const where = 'env' in reference ? `environment variable ${reference.env}` : `file ${reference.file}`;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    problems.push({ path, message: `expected ${where} to hold a postgres:// URL` });
    return null;
  }
  if (!['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '') {
    problems.push({ path, message: `expected ${where} to hold a postgres:// URL with a host` });
    return null;
  }
  return url;
}

export function readTotpSecret(
  reference: z.output<typeof secretReference>,
  source: SecretSource,
  path: Path,
  problems: Problem[],
): string | null {
  const value = readSecret(reference, source, path, problems);
  if (value === null) return null;
  const secret = value.replace(/\s+/g, '').toUpperCase();
  if (!BASE32_SECRET.test(secret)) {
    problems.push({ path, message: 'expected a base32 TOTP secret of at least 16 characters' });
    return null;
  }
  return secret;
}

/**
 * A resource server's bearer token, from `tokenEnv` or `tokenFile`: at least 32 characters of one line,
 * so that it cannot be guessed. The message never repeats the value.
 */
export function readResourceServerToken(
  reference: { readonly tokenEnv?: string | undefined; readonly tokenFile?: string | undefined },
  source: SecretSource,
  path: Path,
  problems: Problem[],
): string | null {
  let value: string;
  let where: Path;
  if (reference.tokenEnv !== undefined) {
    where = [...path, 'tokenEnv'];
    const set = source.env[reference.tokenEnv];
    if (set === undefined || set.trim() === '') {
      problems.push({ path: where, message: `environment variable ${reference.tokenEnv} is not set` });
      return null;
    }
    value = set;
  } else if (reference.tokenFile !== undefined) {
    where = [...path, 'tokenFile'];
    const file = resolve(source.file, '..', reference.tokenFile);
    try {
      value = readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({ path: where, message: `cannot read ${file} (${describeIoError(error)})` });
      return null;
    }
  } else {
    return null; // the schema reports it
  }
  const token = value.trim();
  if (token.length < MIN_RESOURCE_SERVER_TOKEN_LENGTH || /\s/.test(token)) {
    problems.push({
      path: where,
      message: `expected a token of at least ${MIN_RESOURCE_SERVER_TOKEN_LENGTH} characters without spaces (make one with: openssl rand -base64 32)`,
    });
    return null;
  }
  return token;
}

const MIN_RESOURCE_SERVER_TOKEN_LENGTH = 32;

export function describeIoError(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
}
