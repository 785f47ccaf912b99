import { createApp } from "./app";
import { runQueue } from "./jobs/queue";
import { runScheduled } from "./jobs/scheduled";

export { Home } from "./home/home";
export { Limiter } from "./limiter/limiter";

const app = createApp();

/** Worker entry: HTTP, Cron Triggers (which only schedule and maintain) and the sync queues. */
export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Awaited, so a failing job marks the invocation failed in Workers' cron history.
    await runScheduled(controller.cron, env, controller.scheduledTime, ctx);
  },
  async queue(batch, env, ctx) {
    await runQueue(batch, env, ctx);
  },
} satisfies ExportedHandler<Env>;
