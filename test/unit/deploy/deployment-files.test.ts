// Issue 28.8: the deployment files (deploy/) agree with the code and the configuration schema.
// No Docker engine or cluster here: each file is parsed and linted (the Dockerfile with
// dockerfile-utils, the manifests against Kubernetes' schemas with kubernetes-models), and every
// image, port, variable, probe and command is checked against what taskexec has.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate as lintDockerfile } from "dockerfile-utils";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../../src/config/load-config.js";

const root = join(import.meta.dirname, "..", "..", "..");
const deploy = (...path: string[]) => join(root, "deploy", ...path);
const read = (...path: string[]) => readFileSync(deploy(...path), "utf8");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  bin: Record<string, string>;
};

const TEMPLATE = "config.template.yaml";
/** The variables the template needs (those without a default). */
const required = read(TEMPLATE)
  .split("\n")
  .filter((line) => !line.trimStart().startsWith("#"))
  .flatMap((line) => [...line.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!));
const values: Record<string, string> = {
  DATABASE_URL: "postgres://taskexec:secret@postgres:5432/taskexec",
  BROKER_URL: "amqp://taskexec:secret@rabbitmq:5672",
  JWT_SECRET: "a-secret-of-thirty-two-characters-or-more",
};
const template = () => loadConfig({ file: deploy(TEMPLATE), env: values }).options;
/** The commands of `taskexec` that a container may run. */
const COMMANDS = ["serve", "api", "worker"];

type Container = {
  args: string[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  image: string;
  envFrom: { secretRef: { name: string } }[];
  volumeMounts: { name: string; mountPath: string }[];
};

describe("deploy/", () => {
  it("config.template.yaml is a valid configuration once its variables are set", () => {
    expect(required.sort()).toEqual(["BROKER_URL", "DATABASE_URL", "JWT_SECRET"]);
    const options = template();
    expect(options.http.port).toBe(8080);
    expect(options.worker.port).toBe(8081);
    expect(options.http.host).toBe("0.0.0.0");
    expect(() => loadConfig({ file: deploy(TEMPLATE), env: {} })).toThrow(/DATABASE_URL/);
  });

  it("Dockerfile: lints clean, runs the package's bin on Node 24 as a user without privileges, with a healthcheck", () => {
    const text = read("Dockerfile");
    expect(
      lintDockerfile(text).map((d) => [
        d.range.start.line + 1,
        typeof d.message === "string" ? d.message : d.message.value,
      ]),
    ).toEqual([]);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-/m);
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1)!;
    expect(final).toMatch(/npm ci --omit=dev/);
    expect(final).toMatch(/^USER node$/m);
    expect(final).toMatch(/^HEALTHCHECK /m);
    // The entry point is the package's own bin, and the template is where the manifests look.
    const entry = /^ENTRYPOINT \[(.*)\]$/m.exec(final)![1]!;
    expect(entry).toContain(`"${manifest.bin.taskexec!}"`);
    expect(final).toContain(`COPY deploy/${TEMPLATE} /etc/taskexec/${TEMPLATE}`);
    const exposed = /^EXPOSE (.*)$/m.exec(final)![1]!.split(" ").map(Number);
    const options = template();
    expect(exposed).toEqual([options.http.port, options.worker.port]);
  });

  it("docker-compose.yml: the services, their commands, variables, ports and health checks agree", () => {
    const compose = parse(read("docker-compose.yml"), { merge: true }) as {
      services: Record<
        string,
        {
          command?: string[];
          environment?: Record<string, string>;
          healthcheck?: { test: string[] };
          volumes?: (string | Record<string, unknown>)[];
          ports?: string[];
        }
      >;
    };
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(
      ["api", "postgres", "prometheus", "rabbitmq", "worker-1", "worker-2"].sort(),
    );
    for (const [name, service] of Object.entries(services))
      expect(service.healthcheck?.test.length, `${name} has a healthcheck`).toBeGreaterThan(1);
    const options = template();
    for (const name of ["api", "worker-1", "worker-2"]) {
      const service = services[name]!;
      const [command, ...args] = service.command!;
      expect(COMMANDS).toContain(command);
      expect(command).toBe(name === "api" ? "api" : "worker");
      expect(args.slice(0, 2)).toEqual(["--config", `/etc/taskexec/${TEMPLATE}`]);
      for (const variable of required) expect(Object.keys(service.environment!)).toContain(variable);
      const port = command === "api" ? options.http.port : options.worker.port;
      expect(service.environment!.HEALTH_PORT).toBe(String(port));
      expect(service.healthcheck!.test.join(" ")).toContain(`127.0.0.1:${port}/readyz`);
    }
    expect(services.api!.ports).toEqual([`${options.http.port}:${options.http.port}`]);
    // Prometheus: the files it mounts are here, and it scrapes the ports the processes serve.
    for (const volume of services.prometheus!.volumes as string[])
      expect(() => read(volume.split(":")[0]!.replace(/^\.\//, ""))).not.toThrow();
    const scrape = parse(read("prometheus", "prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(scrape.rule_files).toEqual(["alerts.yml"]);
    const targets = scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(
      [
        `api:${options.http.port}`,
        `worker-1:${options.worker.port}`,
        `worker-2:${options.worker.port}`,
      ].sort(),
    );
  });

  it("kubernetes/: every manifest is valid against Kubernetes' schema, and agrees with the code", () => {
    const kustomization = parse(read("kubernetes", "kustomization.yaml")) as { resources: string[] };
    const documents = [...kustomization.resources, "secret.example.yaml"].flatMap((file) =>
      parseAllDocuments(read("kubernetes", file)).map(
        (d) => d.toJS({ merge: true }) as Record<string, unknown>,
      ),
    );
    const models = { Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap, Secret };
    const byKind = new Map<string, Record<string, unknown>[]>();
    for (const document of documents) {
      const kind = document.kind as keyof typeof models;
      expect(Object.keys(models)).toContain(kind);
      expect(() => new models[kind](document as never).validate(), `${kind} is valid`).not.toThrow();
      byKind.set(kind, [...(byKind.get(kind) ?? []), document]);
    }
    // The ConfigMap holds the template as it is.
    const configMap = byKind.get("ConfigMap")![0] as { data: Record<string, string> };
    expect(configMap.data["config.yaml"]).toBe(read(TEMPLATE));
    // The Secret provides every variable the template needs.
    const secret = byKind.get("Secret")![0] as {
      metadata: { name: string };
      stringData: Record<string, string>;
    };
    expect(Object.keys(secret.stringData).sort()).toEqual([...required].sort());
    const options = template();
    const deployments = byKind.get("Deployment") as {
      metadata: { name: string; labels: Record<string, string> };
      spec: { template: { spec: { containers: Container[] } } };
    }[];
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(["taskexec-api", "taskexec-worker"]);
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      const command = container!.args[0]!;
      expect(COMMANDS).toContain(command);
      expect(container!.args.slice(1, 3)).toEqual(["--config", "/etc/taskexec/config.yaml"]);
      expect(container!.volumeMounts.map((m) => m.mountPath)).toContain("/etc/taskexec");
      expect(container!.envFrom[0]!.secretRef.name).toBe(secret.metadata.name);
      expect(container!.image).toMatch(/^taskexec:/);
      const port = command === "api" ? options.http.port : options.worker.port;
      expect(container!.ports.map((p) => p.containerPort)).toEqual([port]);
      const portName = container!.ports[0]!.name;
      expect(container!.readinessProbe.httpGet).toEqual({ path: "/readyz", port: portName });
      expect(container!.livenessProbe.httpGet).toEqual({ path: "/healthz", port: portName });
      expect(Object.keys(container!.resources.requests).sort()).toEqual(["cpu", "memory"]);
      expect(Object.keys(container!.resources.limits).sort()).toEqual(["cpu", "memory"]);
    }
    // The Service, the autoscaler and the budgets point at what exists.
    const api = deployments.find((d) => d.metadata.name === "taskexec-api")!;
    const service = byKind.get("Service")![0] as {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    };
    expect(service.spec.selector).toEqual(api.metadata.labels);
    expect(service.spec.ports[0]).toMatchObject({ port: options.http.port, targetPort: "http" });
    const hpa = byKind.get("HorizontalPodAutoscaler")![0] as { spec: { scaleTargetRef: { name: string } } };
    expect(deployments.map((d) => d.metadata.name)).toContain(hpa.spec.scaleTargetRef.name);
    for (const budget of byKind.get("PodDisruptionBudget") as {
      spec: { selector: { matchLabels: Record<string, string> } };
    }[])
      expect(
        deployments.some(
          (d) => JSON.stringify(d.metadata.labels) === JSON.stringify(budget.spec.selector.matchLabels),
        ),
      ).toBe(true);
  });
});
