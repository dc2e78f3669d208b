import type { PolicyUser } from '../policy/types.js';

/** What the database holds of a person an identity provider brought in, as read beside their session. */
export interface ProvisionedPerson {
  readonly displayName: string;
  readonly groups: readonly string[];
  /** false once offboarded: they sign in no more and approve nothing. */
  readonly active: boolean;
}

/**
 * Everyone who may sign in, as the policy's `users` (what the domain reads for "who is this, which
 * groups"): the people of the policy file and those the identity providers brought in. A person brought in
 * on another instance is learnt, and group changes taken, from the row read beside their session.
 */
export interface Principals extends ReadonlyMap<string, PolicyUser> {
  current(id: string, provisioned: ProvisionedPerson | null): PolicyUser | undefined;
}
