import { createApp } from "./app";

export { Gate } from "./gate/gate";

const app = createApp();

/** Worker entry: HTTP now; cron and queue handlers join as the sync engine lands. */
export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
