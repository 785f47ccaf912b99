import Bowser from "bowser";

export interface Device {
  browser: string | null;
  os: string | null;
  type: "desktop" | "mobile" | "tablet" | "tv" | "bot" | "unknown";
}

const TYPES = new Set(["desktop", "mobile", "tablet", "tv", "bot"]);

/** Browser, OS and device type from a user agent (bowser, MIT). */
export function parseDevice(userAgent: string | null): Device {
  if (!userAgent) return { browser: null, os: null, type: "unknown" };
  const p = Bowser.parse(userAgent);
  const type = p.platform.type && TYPES.has(p.platform.type) ? (p.platform.type as Device["type"]) : "unknown";
  return { browser: p.browser.name ?? null, os: p.os.name ?? null, type };
}
