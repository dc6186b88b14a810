import { newDataKey } from "../../src/security/data-cipher.js";

/**
 * Encryption at rest for a taskexec target (`security.data_key`): the options for a process of
 * this one, and the environment for its children. A fresh key per measurement process.
 */
export function atRest(sealed: boolean): {
  options: { security?: { data_key: string } };
  env: Record<string, string>;
  suffix: string;
} {
  if (!sealed) return { options: {}, env: {}, suffix: "" };
  const key = newDataKey();
  return {
    options: { security: { data_key: key } },
    env: { TASKEXEC_SECURITY__DATA_KEY: key },
    suffix: ", encrypted at rest",
  };
}
