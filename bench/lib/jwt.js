'use strict';
// Minimal HS256 JSON Web Tokens with node's crypto (no dependency).
const crypto = require('node:crypto');

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function hmac(secret, data) {
  return crypto.createHmac('sha256', secret).update(data).digest('base64url');
}

/** sign({sub, email, name, exp?}, secret) -> compact JWT; exp defaults to now + 24 h. */
function sign(claims, secret) {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64url(JSON.stringify({ iat: now, exp: now + 24 * 3600, ...claims }));
  const body = `${HEADER}.${payload}`;
  return `${body}.${hmac(secret, body)}`;
}

/** verify(token, secret) -> claims, or null when malformed, badly signed, expired or incomplete. */
function verify(token, secret) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!header || header.alg !== 'HS256' || !claims || typeof claims !== 'object') return null;
  const expected = Buffer.from(hmac(secret, `${parts[0]}.${parts[1]}`));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  if (claims.exp !== undefined && !(typeof claims.exp === 'number' && claims.exp > Date.now() / 1000)) return null;
  for (const k of ['sub', 'email', 'name']) if (typeof claims[k] !== 'string' || !claims[k]) return null;
  return claims;
}

module.exports = { sign, verify };
