/**
 * The grant service as other code uses it: the desktop app embeds it, the bench and the client suites
 * run it. Everything outside `server/` (and the server's own suites) imports from here only, so the
 * service's internals can change without reaching into its clients.
 */

// Running the service.
export { createService, VERSION, type ServiceOptions, type TimeboxService } from './app.js';
export { hashPassword, type ScryptCost } from './auth/passwords.js';

// The policy it runs.
export { loadPolicyFile, parsePolicy, PolicyError, type PolicySource } from './config/load.js';
export { demoPolicy } from './demo/demo.js';
export type { OidcProvider, Policy } from './policy/types.js';
// A role's conditions, for suites that give a role some without a policy file.
export { HoursCondition } from './policy/conditions/hours.js';
export { NetworksCondition, parseNetwork, type NetworkRange } from './policy/conditions/networks.js';

// Credential and access plugins (`createService({issuers})`).
export type {
  AccessOutcome,
  AccessProvisioner,
  AccessTarget,
  CredentialIssuer,
  IssuerFactory,
} from './credentials/issuer.js';
export type { GrantRecord } from './domain/records.js';

// Its database layer, for tools that measure the service's own statements (the bench's SQL replay)
// and suites that inspect what it stored.
export { openDatabase, type Database, type Sql, type Transaction } from './db/database.js';
export { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './db/pg-client.js';
export type { LoginSamplerTiming } from './insights/login-sampler.js';
export { AuditChainer } from './audit/chainer.js';
export { NOTIFY_CHANNEL } from './events/types.js';
export { newId, type IdPrefix } from './lib/ids.js';
