import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { toSnapshot } from "../../engine/task-snapshot.js";
import { TASK_STATES } from "../../protocol/states.js";
import { type ApiContext, asActor, asReader } from "../api-context.js";
import { streamStatuses } from "../sse.js";

const TaskId = z.object({ id: z.string().min(1).max(200) });

export function taskRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/v1/tasks/:id",
    { schema: { operationId: "getTask", summary: "A task's snapshot", tags: ["tasks"], params: TaskId } },
    async (request) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      return toSnapshot(await ctx.executor.getTask(asReader(principal), request.params.id));
    },
  );

  api.get(
    "/v1/tasks",
    {
      schema: {
        operationId: "listTasks",
        summary:
          "Your tasks (admins and executors: all), newest first, a page at a time: summaries without parameters " +
          "or results (GET /v1/tasks/{id} has them), at most `limit` rows and http.list_max_bytes bytes",
        tags: ["tasks"],
        querystring: z.object({
          state: z.enum(TASK_STATES).optional(),
          type: z.string().min(1).max(200).optional(),
          q: z
            .string()
            .min(1)
            .max(200)
            .optional()
            .describe("the start of an id or reference id, or part of a type"),
          submitter: z
            .string()
            .min(1)
            .max(200)
            .optional()
            .describe("one submitter's tasks (admins and executors)"),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
          cursor: z.string().max(200).optional(),
        }),
      },
    },
    async (request) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      const { q, ...filter } = request.query;
      const page = await ctx.executor.listTasks(asReader(principal), {
        ...filter,
        text: q,
        maxBytes: ctx.options.http.list_max_bytes,
      });
      return { tasks: page.tasks, next_cursor: page.nextCursor };
    },
  );

  api.get(
    "/v1/counts",
    {
      schema: {
        operationId: "countTasks",
        summary: "Your tasks (admins and executors: all) per state",
        tags: ["tasks"],
      },
    },
    async (request) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      return { counts: await ctx.executor.countTasks(asReader(principal)) };
    },
  );

  api.get(
    "/v1/stream",
    {
      schema: {
        operationId: "streamTasks",
        summary:
          "Live changes of your tasks (admins and executors: all) as SSE: `tasks` events carry each changed " +
          "task's row, coalesced a few times a second; `resync` asks the client to reload its list",
        tags: ["tasks"],
      },
    },
    async (request, reply) => {
      const reader = asReader(await ctx.auth.authenticate(request, "monitor_task"));
      const stream = ctx.streams.open(request, reply, reader.id);
      // A client that reads slower than rows change is not sent a backlog: once it has taken
      // what was written, it is told to reload (resync) instead of every batch it missed.
      let behind = false;
      const unsubscribe = ctx.feed.subscribe(reader.admin ? undefined : reader.id, (batch) => {
        if (behind) return;
        if (stream.sendFrame(batch.frame)) return;
        behind = true;
        void stream.drained().then(() => {
          behind = false;
          stream.send("resync", {});
        });
      });
      stream.signal.addEventListener("abort", () => {
        unsubscribe();
        stream.end();
      });
      return reply;
    },
  );

  api.get(
    "/v1/tasks/:id/events",
    {
      schema: {
        operationId: "getTaskEvents",
        summary:
          "A task's task_status history; with Accept: text/event-stream, live (SSE, resumable with Last-Event-ID)",
        tags: ["tasks"],
        params: TaskId,
        querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
      },
    },
    async (request, reply) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      const reader = asReader(principal);
      const lastEventId = Number(request.headers["last-event-id"]);
      const after =
        Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId : (request.query.after ?? 0);
      if (!(request.headers.accept ?? "").includes("text/event-stream")) {
        return { events: await ctx.executor.getStatuses(reader, request.params.id, after) };
      }
      // Looked up before the stream starts (a 404 or 409 is an answer, not an event), and by its
      // whole id from then on: an abbreviation is resolved once.
      const { id } = await ctx.executor.getTask(reader, request.params.id);
      const stream = ctx.streams.open(request, reply, principal.id);
      await streamStatuses(stream, (signal) => ctx.executor.watch(reader, id, after, signal));
      return reply;
    },
  );

  api.post(
    "/v1/tasks/:id/cancel",
    {
      schema: {
        operationId: "cancelTask",
        summary: "Cancel a task; a running handler's AbortSignal fires",
        tags: ["tasks"],
        params: TaskId,
        body: z.object({ reason: z.string().max(1000).optional() }).nullish(),
      },
    },
    async (request) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      const actor = asActor(principal);
      // Submitters cancel their own tasks; admins any. Others see "not found", never "forbidden".
      const { id } = await ctx.executor.getTask(actor, request.params.id);
      if (!actor.admin) await ctx.auth.authenticate(request, "submit_task");
      const { status, changed } = await ctx.executor.cancel(actor, id, request.body?.reason);
      return { changed, status };
    },
  );
}
