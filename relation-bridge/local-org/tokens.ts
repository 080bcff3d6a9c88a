import { randomBytes } from 'node:crypto';

/**
 * OAuth state shared by every host of the local org: authorization codes, refresh
 * tokens (one per approval, at most five approvals per user and app) and access tokens.
 */

export const MAX_APPROVALS_PER_USER = 5;
const CODE_LIFETIME_MS = 15 * 60_000;

export interface AuthorizationCode {
  code: string;
  orgId: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  /** The login host that issued it; the code is redeemed there only. */
  host: string;
  expiresAt: number;
  used: boolean;
}

export interface RefreshToken {
  token: string;
  /** One approval; survives rotation, so rotation does not count as a new approval. */
  approvalId: string;
  /** Order in which approvals were granted; the oldest is evicted first. */
  approvalOrder: number;
  orgId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  host: string;
  /** When this token was issued (a rotation issues a new one). */
  issuedAt: number;
  /** When the user approved the app: the approval's time, kept across rotations (OauthToken.CreatedDate). */
  approvedAt: number;
  lastUsedAt: number;
  /** Refreshes made with the approval (OauthToken.UseCount). */
  useCount: number;
  revoked: boolean;
}

export interface AccessToken {
  token: string;
  orgId: string;
  userId: string;
  clientId: string;
  scopes: string[];
  refreshToken: string | null;
  host: string;
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x');
}

export class TokenStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private approvalsGranted = 0;

  issueCode(fields: Omit<AuthorizationCode, 'code' | 'expiresAt' | 'used'>, now: number): AuthorizationCode {
    const code: AuthorizationCode = {
      ...fields,
      code: `aPrx${randomToken(48)}`,
      expiresAt: now + CODE_LIFETIME_MS,
      used: false,
    };
    this.codes.set(code.code, code);
    return code;
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.codes.get(code);
  }

  /**
   * A new approval. The sixth live approval of one user for one app silently revokes the
   * oldest, as Salesforce does.
   */
  issueRefreshToken(
    fields: Omit<
      RefreshToken,
      'token' | 'approvalId' | 'approvalOrder' | 'issuedAt' | 'approvedAt' | 'lastUsedAt' | 'useCount' | 'revoked'
    >,
    now: number,
  ): RefreshToken {
    const live = [...this.refreshTokens.values()]
      .filter(
        (token) =>
          !token.revoked &&
          token.orgId === fields.orgId &&
          token.userId === fields.userId &&
          token.clientId === fields.clientId,
      )
      .sort((a, b) => a.approvalOrder - b.approvalOrder);
    for (const oldest of live.slice(0, Math.max(0, live.length - MAX_APPROVALS_PER_USER + 1))) {
      this.revokeRefreshToken(oldest);
    }
    const approvalId = randomToken(12);
    this.approvalsGranted += 1;
    return this.storeRefreshToken({
      ...fields,
      approvalId,
      approvalOrder: this.approvalsGranted,
      issuedAt: now,
      approvedAt: now,
      lastUsedAt: now,
      useCount: 0,
      revoked: false,
    });
  }

  /** Rotation: the old refresh token dies and a new one carries the same approval on. */
  rotateRefreshToken(old: RefreshToken, now: number): RefreshToken {
    old.revoked = true;
    return this.storeRefreshToken({ ...old, issuedAt: now, lastUsedAt: now, revoked: false });
  }

  private storeRefreshToken(fields: Omit<RefreshToken, 'token'>): RefreshToken {
    const token: RefreshToken = { ...fields, token: `5Aep861${randomToken(64)}` };
    this.refreshTokens.set(token.token, token);
    return token;
  }

  findRefreshToken(token: string): RefreshToken | undefined {
    return this.refreshTokens.get(token);
  }

  issueAccessToken(fields: Omit<AccessToken, 'token' | 'revoked'>, orgId15: string): AccessToken {
    const token: AccessToken = { ...fields, token: `${orgId15}!AR${randomToken(72)}`, revoked: false };
    this.accessTokens.set(token.token, token);
    return token;
  }

  findAccessToken(token: string): AccessToken | undefined {
    return this.accessTokens.get(token);
  }

  revokeAccessToken(token: AccessToken): void {
    token.revoked = true;
  }

  /** Revoking a refresh token takes the access tokens issued from it along. */
  revokeRefreshToken(token: RefreshToken): void {
    token.revoked = true;
    for (const access of this.accessTokens.values()) {
      if (access.refreshToken !== null && this.approvalOf(access.refreshToken) === token.approvalId)
        access.revoked = true;
    }
  }

  private approvalOf(refreshToken: string): string | undefined {
    return this.refreshTokens.get(refreshToken)?.approvalId;
  }

  expireAccessTokens(orgId: string, now: number): number {
    let count = 0;
    for (const access of this.accessTokens.values()) {
      if (access.orgId === orgId && access.expiresAt > now) {
        access.expiresAt = now;
        count += 1;
      }
    }
    return count;
  }

  revokeRefreshTokens(orgId: string, userId: string | null): number {
    let count = 0;
    for (const token of this.refreshTokens.values()) {
      if (token.orgId === orgId && !token.revoked && (userId === null || token.userId === userId)) {
        this.revokeRefreshToken(token);
        count += 1;
      }
    }
    return count;
  }

  /** Live approvals (refresh tokens) of every user of an org for one app, oldest first. */
  approvalsOfOrg(orgId: string, clientId: string): RefreshToken[] {
    return [...this.refreshTokens.values()]
      .filter((token) => !token.revoked && token.orgId === orgId && token.clientId === clientId)
      .sort((a, b) => a.approvalOrder - b.approvalOrder);
  }

  /** Live approvals (refresh tokens) of one user, oldest first. */
  approvals(orgId: string, userId: string): RefreshToken[] {
    return [...this.refreshTokens.values()]
      .filter((token) => !token.revoked && token.orgId === orgId && token.userId === userId)
      .sort((a, b) => a.approvalOrder - b.approvalOrder);
  }
}
