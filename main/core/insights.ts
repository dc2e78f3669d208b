import type { GrantClient } from '../../api/grant-client.js';
import type { InsightsReport } from '../../preload/contract.js';

/**
 * The Insights screen's figures for one period: the roles, the advice, and every seat pool over time (the
 * pools are those the seat-pool report names, so the screen needs no list of its own).
 */
export async function readInsights(
  client: Pick<GrantClient, 'roleInsights' | 'recommendations' | 'seatPoolUtilization' | 'seatSeries'>,
  from: string,
  to: string,
): Promise<InsightsReport> {
  const [roles, advice, pools] = await Promise.all([
    client.roleInsights(from, to),
    client.recommendations(from, to),
    client.seatPoolUtilization(from, to),
  ]);
  const seats = await Promise.all(
    pools.items.map((pool) => client.seatSeries(`${pool.resourceId}/${pool.role}`, from, to)),
  );
  return { from, to, roles: roles.items, recommendations: advice.items, seats };
}
