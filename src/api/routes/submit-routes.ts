import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { SubmitOutcome } from "../../engine/task-executor.js";
import { SubmitTask } from "../../protocol/submit-task.js";
import type { Admission } from "../../security/submission-guard.js";
import { type ApiContext, asActor } from "../api-context.js";
import { errorBody, type HttpError, sendError, toHttpError } from "../http-errors.js";

const MAX_BATCH = 1000;
/** How long a client over quota is told to wait: quotas free up as tasks finish. */
const QUOTA_RETRY_AFTER_S = 5;

interface Answer {
  status: number;
  body: unknown;
  retryAfterS?: number;
}

/** The answer to one submission, as `POST /v1/tasks` gives it. */
function answer(outcome: SubmitOutcome): Answer {
  switch (outcome.kind) {
    case "accepted":
      return { status: 202, body: outcome.status };
    case "duplicate":
      return { status: 200, body: outcome.status };
    case "rejected":
      return {
        status: 422,
        body: errorBody({
          status: 422,
          code: outcome.error.code,
          message: outcome.error.message,
          details: { errors: outcome.error.issues, status: outcome.status },
        }),
      };
    case "malformed":
      return { status: 400, body: errorBody(toHttpError(outcome.error)) };
    case "refused": {
      if (outcome.error.code === "quota_exceeded")
        return refused({ ok: false, error: outcome.error, retryAfterS: QUOTA_RETRY_AFTER_S });
      const e = toHttpError(outcome.error);
      return { status: e.status, body: errorBody(e) };
    }
  }
}

function refused(admission: Exclude<Admission, { ok: true }>): Answer {
  const e: HttpError = { ...toHttpError(admission.error), retryAfterS: admission.retryAfterS };
  return { status: e.status, body: errorBody(e), retryAfterS: admission.retryAfterS };
}

/** Audits and logs the submissions refused at admission (rate, quota): the engine never sees them. */
async function auditRefusals(
  ctx: ApiContext,
  request: FastifyRequest,
  principal: string,
  messages: readonly unknown[],
  admissions: readonly Admission[],
) {
  const at = Date.now();
  const records = admissions.flatMap((admission, i) => {
    if (admission.ok) return [];
    const id = (messages[i] as { header?: { message_id?: unknown } } | null)?.header?.message_id;
    return [
      {
        at,
        principal,
        action: "submit_task",
        messageId: typeof id === "string" ? id.slice(0, 256) : null,
        taskId: null,
        decision: admission.error.code,
      },
    ];
  });
  for (const record of records)
    request.log.warn(
      { principal, channel: "http", code: record.decision, message_id: record.messageId },
      "submission refused",
    );
  if (records.length > 0) await ctx.executor.recordAudit(records);
}

export function submitRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    "/v1/tasks",
    {
      // Documented with the protocol schema, but checked by the engine's own validator, which
      // separates malformed messages (400) from rejected tasks (422, with every issue's path).
      attachValidation: true,
      schema: {
        operationId: "submitTask",
        summary: "Submit a task (a submit_task message)",
        description:
          "202 with the task_accepted task_status; 200 with the task's latest status when this principal already sent this message_id; 400 malformed; 422 rejected (details.errors: every issue with its path); 429 rate or quota.",
        tags: ["tasks"],
        body: SubmitTask,
      },
    },
    async (request, reply) => {
      const principal = await ctx.auth.authenticate(request, "submit_task");
      const [admission] = await ctx.guard.admit(principal.id, [request.body]);
      await auditRefusals(ctx, request, principal.id, [request.body], [admission!]);
      if (!admission!.ok)
        return sendError(reply, { ...toHttpError(admission!.error), retryAfterS: admission!.retryAfterS });
      const [outcome] = await ctx.executor.submitMany(asActor(principal, "http"), [request.body]);
      const result = answer(outcome!);
      if (result.retryAfterS !== undefined) void reply.header("retry-after", String(result.retryAfterS));
      if (outcome!.kind === "accepted") void reply.header("location", `/v1/tasks/${outcome!.task.id}`);
      return reply.code(result.status).send(result.body);
    },
  );

  api.post(
    "/v1/tasks/batch",
    {
      attachValidation: true,
      schema: {
        operationId: "submitTasks",
        summary: `Submit up to ${MAX_BATCH} tasks at once; one answer per message, in order`,
        tags: ["tasks"],
        body: z.object({ messages: z.array(SubmitTask).max(MAX_BATCH) }),
      },
    },
    async (request, reply) => {
      const principal = await ctx.auth.authenticate(request, "submit_task");
      const messages = (request.body as { messages?: unknown } | null)?.messages;
      if (!Array.isArray(messages) || messages.length > MAX_BATCH) {
        return sendError(reply, {
          status: 400,
          code: "validation_failed",
          message: `the body must be { "messages": [ …at most ${MAX_BATCH} submit_task messages… ] }`,
        });
      }
      const admissions = await ctx.guard.admit(principal.id, messages);
      await auditRefusals(ctx, request, principal.id, messages, admissions);
      const admitted = messages.filter((_, i) => admissions[i]!.ok);
      const outcomes = await ctx.executor.submitMany(asActor(principal, "http"), admitted);
      let next = 0;
      const results = admissions.map((admission) => {
        const result = admission.ok ? answer(outcomes[next++]!) : refused(admission);
        return { status: result.status, body: result.body };
      });
      return reply.code(207).send({ results });
    },
  );
}
