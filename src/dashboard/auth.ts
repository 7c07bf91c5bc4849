// Dashboard access token: random generation, constant-time comparison, bearer/cookie/query authentication.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Name of the cookie that carries the dashboard token after the first `?token=` visit. */
export const TOKEN_COOKIE = 'sluice_token';

/** A fresh random access token (32 bytes, base64url). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares two strings in constant time (of their hashes). */
export function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** How a request proved it holds the token, or `undefined` when it did not. */
export function authenticate(
  req: IncomingMessage,
  url: URL,
  token: string,
): 'bearer' | 'cookie' | 'query' | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && sameToken(auth.slice(7).trim(), token)) return 'bearer';
  const c = cookie(req, TOKEN_COOKIE);
  if (c !== undefined && sameToken(c, token)) return 'cookie';
  const q = url.searchParams.get('token');
  if (q !== null && sameToken(q, token)) return 'query';
  return undefined;
}
