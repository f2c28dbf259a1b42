/**
 * Bearer-token authentication. Tokens are compared by SHA-256 in constant time, and each token
 * names the Spinnaker accounts it may use.
 */
import { createHash, timingSafeEqual } from 'crypto';
import { TokenConfig } from './config';

export interface Principal {
  name: string;
  accounts: string[];
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TokenAuthenticator {
  private readonly digests: Array<{ digest: Buffer; principal: Principal }>;

  constructor(tokens: TokenConfig[]) {
    this.digests = tokens.map((t) => ({ digest: Buffer.from(t.sha256, 'hex'), principal: { name: t.name, accounts: t.accounts } }));
  }

  /** The principal for an Authorization header value, or undefined. */
  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    const digest = createHash('sha256').update(match[1], 'utf8').digest();
    // Compare against every token so the time taken does not reveal which one nearly matched.
    let found: Principal | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
    }
    return found;
  }
}

export function mayUseAccount(principal: Principal, account: string): boolean {
  return principal.accounts.includes('*') || principal.accounts.includes(account);
}
