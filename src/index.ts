import { createApp } from "./app";
import { runScheduled } from "./jobs/scheduled";

export { Gate } from "./gate/gate";

const app = createApp();

/** Worker entry: HTTP, and Cron Triggers (which only schedule and maintain). */
export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    // Awaited, so a failing job marks the invocation failed in Workers' cron history.
    await runScheduled(controller.cron, env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
