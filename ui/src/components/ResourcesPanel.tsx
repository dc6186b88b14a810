import { useState } from "preact/hooks";
import type { NodeResources } from "../api.js";
import { amount, shortDuration } from "../format.js";
import { useLiveReload, useNow } from "../hooks.js";
import { useSignedIn } from "../session.js";

/** A node whose heartbeat is older than this is shown dead even before the server says so. */
const STALE_MS = 30_000;

/**
 * Per node: each resource kind's allocation against capacity, running and waiting tasks,
 * heartbeat. Reloaded with the counts, on the same live feed, and it says how old it is.
 */
export function ResourcesPanel() {
  const { api, feed } = useSignedIn();
  const now = useNow(1_000);
  const [nodes, setNodes] = useState<NodeResources[]>([]);
  const [loadedAt, setLoadedAt] = useState(Date.now());
  useLiveReload(
    feed,
    async () => {
      setNodes((await api.resources()).nodes);
      setLoadedAt(Date.now());
    },
    3_000,
    [api],
  );
  return (
    <section class="card resources" aria-labelledby="resources-title">
      <h2 id="resources-title">
        Resources{" "}
        <span class="muted small as-of" title={new Date(loadedAt).toISOString()}>
          as of {shortDuration(now - loadedAt)} ago
        </span>
      </h2>
      {nodes.length === 0 && <p class="empty">No nodes report.</p>}
      {nodes.map((node) => {
        const heartbeatAge = loadedAt - Date.parse(node.last_heartbeat);
        const alive = node.alive && heartbeatAge < STALE_MS;
        return (
          <div class={`node ${alive ? "" : "dead"}`} key={node.node} data-node={node.node}>
            <h3 class="mono small">
              {node.node}{" "}
              <span class={`badge ${alive ? "state-completed" : "state-failed"}`}>
                {alive ? "alive" : "dead"}
              </span>
            </h3>
            <p class="muted small">
              {node.running} holding resources · {node.waiting} waiting for them · heartbeat{" "}
              {shortDuration(heartbeatAge)} ago
            </p>
            <ul class="meters">
              {Object.entries(node.capacity).map(([kind, capacity]) => {
                const used = node.allocated[kind] ?? 0;
                return (
                  <li key={kind}>
                    <span class="kind">{kind}</span>
                    <meter
                      min={0}
                      max={capacity || 1}
                      value={used}
                      high={capacity * 0.9}
                      aria-label={`${kind} allocated on ${node.node}`}
                    />
                    <span class="num small">
                      {amount(used)} / {amount(capacity)}
                    </span>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </section>
  );
}
