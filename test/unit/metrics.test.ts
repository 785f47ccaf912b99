import { describe, expect, it } from "vitest";
import { createMetrics, statusClass } from "../../src/metrics";
import { recordingLogger } from "../support/email";

describe("metrics without a dataset (local runs)", () => {
  it("logs each point at debug with the same blobs and doubles, and never throws", () => {
    const { logger, lines } = recordingLogger();
    const metrics = createMetrics(undefined, logger);
    metrics.rateLimit({ rule: "login_ip", keyKind: "ip" });
    metrics.email({ emailKind: "verification", outcome: "sent", attempts: 1 });
    expect(lines).toEqual([
      {
        level: "debug",
        msg: "metric",
        fields: { metric: "rate_limit", blobs: ["rate_limit", "login_ip", "ip"], doubles: [1] },
      },
      {
        level: "debug",
        msg: "metric",
        fields: { metric: "email", blobs: ["email", "verification", "sent"], doubles: [1] },
      },
    ]);
  });

  it("a dataset that throws costs a warning, not the work", () => {
    const { logger, lines } = recordingLogger();
    const broken = {
      writeDataPoint: () => {
        throw new Error("over the limit");
      },
    };
    createMetrics(broken, logger).auth({ action: "login", outcome: "success", reason: "" });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([["warn", "metric not written"]]);
  });

  it("classes statuses, 429 apart", () => {
    expect([200, 302, 404, 429, 503, null].map(statusClass)).toEqual(["2xx", "3xx", "4xx", "429", "5xx", "none"]);
  });
});
