/**
 * Whether the stages of a request can still be completed by distinct people, shared by the service (which
 * refuses or escalates on it) and the request dialog's preview (which says the same before sending).
 */

/** One stage still to decide: the approvals it needs and who could give them (already filtered). */
export interface StageDemand {
  readonly name: string;
  readonly needed: number;
  readonly eligible: readonly string[];
}

/** The first stage that cannot be completed, with the numbers. */
export interface StageShortfall {
  /** Its position among the stages given. */
  readonly position: number;
  readonly stage: string;
  /** Approvals the stage still needs. */
  readonly needed: number;
  /** Distinct people who could still give them, once the earlier stages have the people they need. */
  readonly eligible: number;
}

/**
 * Nobody approves twice across stages, so this is a matching of approval slots to people (augmenting
 * paths), not a count per stage: two stages that are lena alone cannot both be completed although each
 * has one approver. Stages are filled in order; null when all of them can be.
 */
export function firstShortfall(stages: readonly StageDemand[]): StageShortfall | null {
  const slots: (readonly string[])[] = [];
  const slotOf = new Map<string, number>();
  const assign = (slot: number, visited: Set<string>): boolean => {
    for (const person of slots[slot] ?? []) {
      if (visited.has(person)) continue;
      visited.add(person);
      const held = slotOf.get(person);
      if (held === undefined || assign(held, visited)) {
        slotOf.set(person, slot);
        return true;
      }
    }
    return false;
  };
  for (const [position, stage] of stages.entries()) {
    let matched = 0;
    for (let slot = 0; slot < stage.needed; slot++) {
      slots.push(stage.eligible);
      if (assign(slots.length - 1, new Set())) matched += 1;
    }
    if (matched < stage.needed)
      return { position, stage: stage.name, needed: stage.needed, eligible: matched };
  }
  return null;
}
