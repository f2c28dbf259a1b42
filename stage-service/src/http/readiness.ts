/** What /readyz answers, on the main port and on the probe port alike. */
import { AccountRegistry } from '../accounts';
import { Readiness } from './probe-server';

export async function readiness(isReady: () => boolean, accounts: AccountRegistry): Promise<Readiness> {
  if (!isReady()) return { code: 503, body: { status: 'starting' } };
  // Cached health of each API server (probed in the background): answers without waiting.
  const problems = await accounts.problems();
  if (problems.length > 0) {
    return { code: 503, body: { status: 'unavailable', message: problems.map((p) => `account ${p.account}: ${p.message}`).join('; '), accounts: problems } };
  }
  // Degraded, still ready: an unsynced namespace is read from the API server directly.
  const unsynced = accounts.watches().filter((watch) => !watch.synced);
  if (unsynced.length === 0) return { code: 200, body: { status: 'ready' } };
  return { code: 200, body: { status: 'ready', degraded: unsynced.map(({ synced: _synced, ...rest }) => rest) } };
}
