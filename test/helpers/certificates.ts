// Certificates made with openssl for the TLS tests: a CA of the test's own, and server and client
// certificates it signed (EC P-256, a day long). The server's names are localhost and 127.0.0.1.
import { execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  /** The CA's certificate (PEM file). */
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });

function newKey(file: string): void {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  chmodSync(file, 0o600);
}

/** A CA in `dir` (named `name`), and a server and a client certificate it signed. */
export function makeCertificates(dir: string, name = "ca"): TestCertificates {
  const file = (what: string) => join(dir, `${name}-${what}`);
  newKey(file("ca.key"));
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    file("ca.key"),
    "-days",
    "1",
    "-subj",
    `/CN=taskexec test ${name}`,
    "-out",
    file("ca.crt"),
  ]);
  const sign = (who: string, subject: string, extensions: string) => {
    newKey(file(`${who}.key`));
    openssl(["req", "-new", "-key", file(`${who}.key`), "-subj", subject, "-out", file(`${who}.csr`)]);
    writeFileSync(file(`${who}.ext`), extensions);
    openssl([
      "x509",
      "-req",
      "-in",
      file(`${who}.csr`),
      "-CA",
      file("ca.crt"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      file(`${who}.ext`),
      "-out",
      file(`${who}.crt`),
    ]);
    return { cert: file(`${who}.crt`), key: file(`${who}.key`) };
  };
  return {
    ca: file("ca.crt"),
    server: sign(
      "server",
      "/CN=localhost",
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    ),
    client: sign("client", "/CN=taskexec-client", "extendedKeyUsage=clientAuth\n"),
  };
}
