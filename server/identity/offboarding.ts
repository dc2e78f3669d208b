import type { Sessions } from '../auth/sessions.js';
import { endGrants } from '../domain/activation.js';
import { cancel, reconsider } from '../domain/approval-flow.js';
import type { Domain } from '../domain/context.js';
import type { GrantRecord, RequestRecord } from '../domain/records.js';
import type { Work } from '../domain/work.js';
import type { PolicyUser } from '../policy/types.js';
import type { Directory } from './directory.js';

const REASON = 'offboarded through SCIM';

/**
 * A leaver, in the transaction that deactivates or deletes them: their sessions end (tokens and streams,
 * on every instance), their active grants are revoked as at expiry (logins dropped and their sessions cut
 * by the access operations), their pending and queued requests are cancelled, and the requests waiting on
 * them ask whoever else may decide. Everything is audited by the domain's own paths.
 */
export class Offboarding {
  constructor(
    private readonly domain: Domain,
    private readonly sessions: Sessions,
    private readonly directory: Directory,
  ) {}

  async offboard(work: Work, person: PolicyUser): Promise<void> {
    // Taken out first, so the reconsidered requests no longer ask them; back in should the work fail.
    this.directory.forget(person.id);
    work.onCommitted(() => {
      this.directory.forget(person.id);
    });
    try {
      await this.sessions.endAllOf(work, person.id, 'offboarded');
      const grants = await work.sql.query<GrantRecord>(
        `SELECT * FROM grants WHERE user_id = $1 AND status = 'active' ORDER BY resource_id, role, id FOR UPDATE`,
        [person.id],
      );
      await endGrants(this.domain, work, grants, 'revoked', null, REASON);
      const own = await work.sql.query<RequestRecord>(
        `SELECT * FROM requests WHERE requester_id = $1 AND status IN ('pending', 'queued') ORDER BY id FOR UPDATE`,
        [person.id],
      );
      // Withdrawn as the requester would: nobody else may act for a person who has left.
      for (const request of own) await cancel(this.domain, work, person, request, REASON);
      const waitingOnThem = await work.sql.query<RequestRecord>(
        `SELECT * FROM requests WHERE status = 'pending' AND $1 = ANY(deciders) ORDER BY id FOR UPDATE`,
        [person.id],
      );
      for (const request of waitingOnThem) await reconsider(this.domain, work, request);
      work.audit({
        actorId: null,
        action: 'user.offboarded',
        subjectType: 'user',
        subjectId: person.id,
        data: {
          grantsRevoked: grants.map((grant) => grant.id),
          requestsCancelled: own.map((request) => request.id),
          requestsReconsidered: waitingOnThem.map((request) => request.id),
        },
      });
    } catch (error) {
      this.directory.set(person.id, person);
      throw error;
    }
  }
}
