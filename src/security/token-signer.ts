import { SignJWT } from "jose";
import type { Role } from "./roles.js";

export interface TokenRequest {
  sub: string;
  roles: readonly Role[];
  /** A jose time span: `1h`, `30m`, `7d`. */
  ttl: string;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Mints an HS256 token with the server's secret (for `taskexec token` and the first admin token). */
export async function signToken(secret: string, request: TokenRequest): Promise<string> {
  let jwt = new SignJWT({ roles: [...request.roles] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(request.sub)
    .setIssuedAt()
    .setExpirationTime(request.ttl);
  if (request.issuer !== undefined) jwt = jwt.setIssuer(request.issuer);
  if (request.audience !== undefined) jwt = jwt.setAudience(request.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
