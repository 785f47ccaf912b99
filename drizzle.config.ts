import { defineConfig } from "drizzle-kit";

// One migrations folder for drizzle-kit, wrangler (`migrations_dir`) and the tests.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: process.env.DRIZZLE_OUT ?? "./migrations",
  casing: "snake_case",
});
