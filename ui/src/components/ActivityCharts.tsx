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
  /** Bars for counts in a step (they read at a glance even when steps are sparse); lines for times. */
  kind: "bars" | "lines";
  series: { label: string; color: string; pick(p: ActivityPoint): number | null }[];
}

const CHARTS: ChartSpec[] = [
  {
    title: "Tasks per second",
    unit: "/s",
    kind: "bars",
    series: [
      { label: "submitted", color: "#4f7cff", pick: (p) => p.submitted_per_s },
      { label: "completed", color: "#2e9e5b", pick: (p) => p.completed_per_s },
      { label: "failed", color: "#d64545", pick: (p) => p.failed_per_s },
    ],
  },
  {
    title: "Wait (submit → start)",
    unit: "ms",
    kind: "lines",
    series: [
      { label: "p50", color: "#2e9e5b", pick: (p) => p.wait_ms?.p50 ?? null },
      { label: "p95", color: "#e0a100", pick: (p) => p.wait_ms?.p95 ?? null },
      { label: "p99", color: "#d64545", pick: (p) => p.wait_ms?.p99 ?? null },
    ],
  },
  {
    title: "Execution time",
    unit: "ms",
    kind: "lines",
    series: [
      { label: "p50", color: "#2e9e5b", pick: (p) => p.execution_ms?.p50 ?? null },
      { label: "p95", color: "#e0a100", pick: (p) => p.execution_ms?.p95 ?? null },
      { label: "p99", color: "#d64545", pick: (p) => p.execution_ms?.p99 ?? null },
    ],
  },
  {
    title: "Error rate",
    unit: "%",
    kind: "bars",
    series: [
      {
        label: "failed / finished",
        color: "#d64545",
        pick: (p) => (p.error_rate === null ? null : p.error_rate * 100),
      },
    ],
  },
];

/**
 * The last 15 minutes in four small charts (uPlot), reloaded every step; each headline figure is
 * over the whole window (a rate, the error rate, percentiles), not the last step.
 */
export function ActivityCharts() {
  const { api } = useSignedIn();
  const [points, setPoints] = useState<ActivityPoint[]>([]);
  const [window, setWindow] = useState<ActivityPoint | null>(null);
  usePolling(
    async () => {
      const stats = await api.stats(STEP_S);
      setPoints(stats.points);
      setWindow(stats.window);
    },
    STEP_S * 1000,
    [api],
  );
  return (
    <section class="card charts" aria-labelledby="charts-title">
      <h2 id="charts-title">Last 15 minutes</h2>
      <div class="chart-grid">
        {CHARTS.map((spec) => (
          <Chart key={spec.title} spec={spec} points={points} window={window} />
        ))}
      </div>
    </section>
  );
}

const number = (v: number) => (v === 0 ? "0" : v < 10 ? v.toFixed(1) : String(Math.round(v)));

/** An axis label with its unit, short enough for the axis: 20000 ms is "20 s". */
function axisLabel(v: number, unit: string): string {
  if (unit === "ms" && v >= 1000) return `${number(v / 1000)} s`;
  return `${number(v)} ${unit}`;
}

/** The series over the whole window, for the headline and for screen readers. */
function headline(spec: ChartSpec, window: ActivityPoint | null): string {
  if (window === null || spec.series.every((s) => s.pick(window) === null)) return "no data";
  return spec.series
    .map((s) => {
      const v = s.pick(window);
      return `${s.label} ${v === null ? "—" : `${number(v)} ${spec.unit}`}`;
    })
    .join(", ");
}

function Chart(props: { spec: ChartSpec; points: ActivityPoint[]; window: ActivityPoint | null }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { spec, points } = props;
  const empty = !points.some((p) => spec.series.some((s) => (s.pick(p) ?? 0) > 0));

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
          size: 56,
          // The unit on every label of the axis.
          values: (_u, splits) => splits.map((v) => axisLabel(v, spec.unit)),
        },
      ],
      series: [
        {},
        ...spec.series.map((s, i) =>
          spec.kind === "bars"
            ? {
                label: s.label,
                stroke: s.color,
                fill: `${s.color}cc`,
                width: 0,
                // Nested within a step, widest first: every series stays visible.
                paths: uPlot.paths.bars!({ size: [0.9 - i * 0.3, 40] }),
                points: { show: false },
              }
            : {
                label: s.label,
                stroke: s.color,
                width: 2,
                // A line across the steps without data, so separate samples still read as a trend.
                spanGaps: true,
                points: { show: true, size: 4, fill: s.color },
              },
        ),
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

  const summary = headline(spec, props.window);
  return (
    <figure class="chart" data-empty={empty}>
      <figcaption>
        {spec.title} <span class="muted small">(15 min: {summary})</span>
      </figcaption>
      {empty && <p class="no-data">No data in the last 15 minutes</p>}
      <div ref={box} role="img" aria-label={`${spec.title}, last 15 minutes: ${summary}`} />
    </figure>
  );
}
