import { CompactEncrypt, compactDecrypt, importJWK, type JWK } from "jose";

/** The content encryption of every JWE taskexec makes or opens (SPEC §6). */
export const CONTENT_ENCRYPTION = "A256GCM";

/** The key management algorithm for a recipient's public JWK: RSA-OAEP-256, or ECDH-ES for EC and X25519. */
export function keyAlgorithmFor(jwk: JWK): "RSA-OAEP-256" | "ECDH-ES+A256KW" {
  return jwk.kty === "RSA" ? "RSA-OAEP-256" : "ECDH-ES+A256KW";
}

/** The JSON of `value`, as a JWE compact string only the holder of `jwk`'s private half opens. */
export async function encryptJson(jwk: JWK, value: unknown): Promise<string> {
  const alg = keyAlgorithmFor(jwk);
  const key = await importJWK({ ...jwk, alg }, alg);
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg, enc: CONTENT_ENCRYPTION, cty: "json", ...(jwk.kid ? { kid: jwk.kid } : {}) })
    .encrypt(key);
}

/** What {@link encryptJson} made, opened with the private key (a JWK or a key object). */
export async function decryptJson(
  privateKey: JWK | Parameters<typeof compactDecrypt>[1],
  jwe: string,
): Promise<unknown> {
  let key = privateKey;
  if (isJwk(privateKey)) {
    const alg = keyAlgorithmFor(privateKey);
    key = await importJWK({ ...privateKey, alg }, alg);
  }
  const { plaintext } = await compactDecrypt(jwe, key, {
    keyManagementAlgorithms: ["RSA-OAEP-256", "ECDH-ES+A256KW"],
    contentEncryptionAlgorithms: [CONTENT_ENCRYPTION],
  });
  return JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
}

function isJwk(value: unknown): value is JWK {
  return typeof value === "object" && value !== null && typeof (value as JWK).kty === "string";
}
