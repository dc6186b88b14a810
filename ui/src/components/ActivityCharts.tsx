import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ActivityPoint } from "../api.js";
import { usePolling } from "../hooks.js";
import { useSignedIn } from "../session.js";

const STEP_S = 5;

interface ChartSpec {
  title: string;
  unit: string;
  series: { label: string; color: string; pick(p: ActivityPoint): number | null }[];
}

const CHARTS: ChartSpec[] = [
  {
    title: "Tasks per second",
    unit: "/s",
    series: [
      { label: "submitted", color: "#4f7cff", pick: (p) => p.submitted_per_s },
      { label: "completed", color: "#2e9e5b", pick: (p) => p.completed_per_s },
      { label: "failed", color: "#d64545", pick: (p) => p.failed_per_s },
    ],
  },
  {
    title: "Wait (submit → start)",
    unit: "ms",
    series: [
      { label: "p50", color: "#2e9e5b", pick: (p) => p.wait_ms?.p50 ?? null },
      { label: "p95", color: "#e0a100", pick: (p) => p.wait_ms?.p95 ?? null },
      { label: "p99", color: "#d64545", pick: (p) => p.wait_ms?.p99 ?? null },
    ],
  },
  {
    title: "Execution time",
    unit: "ms",
    series: [
      { label: "p50", color: "#2e9e5b", pick: (p) => p.execution_ms?.p50 ?? null },
      { label: "p95", color: "#e0a100", pick: (p) => p.execution_ms?.p95 ?? null },
      { label: "p99", color: "#d64545", pick: (p) => p.execution_ms?.p99 ?? null },
    ],
  },
  {
    title: "Error rate",
    unit: "%",
    series: [
      {
        label: "failed / finished",
        color: "#d64545",
        pick: (p) => (p.error_rate === null ? null : p.error_rate * 100),
      },
    ],
  },
];

/** The last 15 minutes in four small charts (uPlot), reloaded every step. */
export function ActivityCharts() {
  const { api } = useSignedIn();
  const [points, setPoints] = useState<ActivityPoint[]>([]);
  usePolling(async () => setPoints((await api.stats(STEP_S)).points), STEP_S * 1000, [api]);
  return (
    <section class="card charts" aria-labelledby="charts-title">
      <h2 id="charts-title">Last 15 minutes</h2>
      <div class="chart-grid">
        {CHARTS.map((spec) => (
          <Chart key={spec.title} spec={spec} points={points} />
        ))}
      </div>
    </section>
  );
}

/** The latest value of a series, for screen readers and for a glance. */
function latest(spec: ChartSpec, points: ActivityPoint[]): string {
  const last = [...points].reverse().find((p) => spec.series.some((s) => s.pick(p) !== null));
  if (last === undefined) return "no data yet";
  return spec.series
    .map((s) => {
      const v = s.pick(last);
      return `${s.label} ${v === null ? "—" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${spec.unit}`}`;
    })
    .join(", ");
}

function Chart(props: { spec: ChartSpec; points: ActivityPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { spec, points } = props;

  const data = (): uPlot.AlignedData => [
    points.map((p) => p.t),
    ...spec.series.map((s) => points.map((p) => s.pick(p))),
  ];

  useEffect(() => {
    const element = box.current!;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 140,
      legend: { show: true, live: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.15)" }, ticks: { show: false } },
        {
          stroke: "currentColor",
          grid: { stroke: "rgba(128,128,128,0.15)" },
          ticks: { show: false },
          size: 44,
        },
      ],
      series: [
        {},
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: false,
          // Dots too: a step with data between empty ones has no line to draw.
          points: { show: true, size: 3, fill: s.color },
        })),
      ],
    };
    plot.current = new uPlot(options, data(), element);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(200, element.clientWidth), height: 140 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => plot.current?.setData(data()), [points]);

  return (
    <figure class="chart">
      <figcaption>
        {spec.title} <span class="muted small">({latest(spec, points)})</span>
      </figcaption>
      <div ref={box} role="img" aria-label={`${spec.title}, last 15 minutes: ${latest(spec, points)}`} />
    </figure>
  );
}
