// SQL fragments of PostgreSQL leases: whether a row is held (own expiry, or its holder's) and its effective expiry.

/**
 * SQL true when the lease row aliased `l` is held at `now` (an SQL parameter): owned, and either
 * unexpired or, when bound, its holder row held with the recorded token. Used by acquisitions,
 * reads and the commit fences alike, so they all apply one rule.
 */
export function leaseHeldSql(s: string, l: string, now: string): string {
  return `(${l}.owner IS NOT NULL AND CASE WHEN ${l}.holder IS NULL THEN ${l}.expires_at > ${now}
    ELSE EXISTS (SELECT 1 FROM ${s}.leases hl WHERE hl.name = ${l}.holder AND hl.token = ${l}.holder_token
      AND hl.owner IS NOT NULL AND hl.holder IS NULL AND hl.expires_at > ${now}) END)`;
}

/**
 * `SELECT` of held leases ({@link leaseHeldSql}; columns name, owner, token, expires_at, holder,
 * holder_token, the expiry of a bound one being its holder's), from `leases l` joined to its
 * holder row `h`; `where` adds conditions on `l`, `now` is the parameter of the time.
 */
export function heldLeasesSql(s: string, where: string, now: string): string {
  return `SELECT l.name, l.owner, l.token,
      CASE WHEN l.holder IS NULL THEN l.expires_at ELSE h.expires_at END AS expires_at,
      l.holder, l.holder_token
    FROM ${s}.leases l
    LEFT JOIN ${s}.leases h ON h.name = l.holder AND h.token = l.holder_token
    WHERE ${where} AND ${leaseHeldSql(s, 'l', now)}`;
}
