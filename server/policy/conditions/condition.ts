/**
 * A condition of a role: one thing about the moment and place of a request (the hour, the network)
 * that the policy wants true. Each kind is a small module behind this interface, so a new one is a new
 * file and a line where the policy is read.
 */

/** What is known about a request when a condition is checked. */
export interface RequestContext {
  /** The service's clock, in ms since the epoch. */
  readonly now: number;
  /** The requester's address as the service sees it (proxies it trusts honoured); null when unknown. */
  readonly clientAddress: string | null;
}

/** Whether a condition holds for this request now, and a sentence a person can act on either way. */
export interface ConditionCheck {
  readonly name: string;
  readonly met: boolean;
  readonly message: string;
}

export interface Condition {
  /** As written in the policy: `hours`, `networks`. */
  readonly name: string;
  check(context: RequestContext): ConditionCheck;
}

/** Every condition of a role checked, and those that do not hold. */
export function checkAll(
  conditions: readonly Condition[],
  context: RequestContext,
): { readonly checks: ConditionCheck[]; readonly unmet: ConditionCheck[] } {
  const checks = conditions.map((condition) => condition.check(context));
  return { checks, unmet: checks.filter((check) => !check.met) };
}
