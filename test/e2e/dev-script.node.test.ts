import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM helper shared with `npm run dev`.
import { devPlan, ensureDevVars, freePort, ROOT } from "../../scripts/lib/local.mjs";

// `npm run dev` (scripts/dev.mjs): what it asks wrangler for (devPlan), and the real script
// serving on the port and address the developer chose.

type Plan = { port: number; base: string; persistTo?: string; args: string[] };
const plan = devPlan as (input?: { argv?: string[]; env?: Record<string, string>; devVarsKeys?: Set<string> }) => Plan;

/** Every value given for `--name` in an argument list, in either form. */
const valuesOf = (args: string[], name: string) =>
  args.flatMap((a, i) => (a === `--${name}` ? [args[i + 1]] : a.startsWith(`--${name}=`) ? [a.split("=")[1]] : []));

describe("npm run dev: the plan", () => {
  it("passes extra arguments through to wrangler dev", () => {
    const { args } = plan({ argv: ["--var", "ADMIN_EMAILS:me@example.com"] });
    expect(args.slice(-2)).toEqual(["--var", "ADMIN_EMAILS:me@example.com"]);
  });

  it("derives APP_BASE_URL from PORT unless it is set", () => {
    const p = plan({ env: { PORT: "8795" } });
    expect(p.port).toBe(8795);
    expect(p.args).toEqual(expect.arrayContaining(["--port", "8795", "--var", "APP_BASE_URL:http://localhost:8795"]));
    const set = plan({ env: { PORT: "8795", APP_BASE_URL: "https://tunnel.example" } });
    expect(set.args.join(" ")).not.toContain("APP_BASE_URL");
    const inDevVars = plan({ env: { PORT: "8795" }, devVarsKeys: new Set(["APP_BASE_URL"]) });
    expect(inDevVars.args.join(" ")).not.toContain("APP_BASE_URL");
    expect(() => plan({ env: { PORT: "http" } })).toThrow(/PORT/);
  });

  it("serves on 8787 at 127.0.0.1 when nothing is asked", () => {
    const p = plan();
    expect(p).toMatchObject({ port: 8787, base: "http://localhost:8787" });
    expect(valuesOf(p.args, "port")).toEqual(["8787"]);
    expect(valuesOf(p.args, "ip")).toEqual(["127.0.0.1"]);
  });

  it.each([[["--port", "9000"]], [["--port=9000"]]])(
    "lets the user's %j win over its own port and PORT, once, and derives the base URL from it",
    (argv) => {
      const p = plan({ argv, env: { PORT: "8795" } });
      expect(p.port).toBe(9000);
      expect(p.base).toBe("http://localhost:9000");
      expect(valuesOf(p.args, "port")).toEqual(["9000"]);
      expect(p.args.join(" ")).not.toContain("8795");
      expect(p.args).toEqual(expect.arrayContaining(["--var", "APP_BASE_URL:http://localhost:9000"]));
      // Its own address stays: only the port was asked for.
      expect(valuesOf(p.args, "ip")).toEqual(["127.0.0.1"]);
    },
  );

  it.each([
    [["--ip", "0.0.0.0"], "0.0.0.0", "http://localhost:8787"],
    [["--ip=0.0.0.0"], "0.0.0.0", "http://localhost:8787"],
    [["--ip", "::"], "::", "http://localhost:8787"],
    [["--ip", "127.0.0.2"], "127.0.0.2", "http://localhost:8787"],
    [["--ip", "192.168.1.20"], "192.168.1.20", "http://192.168.1.20:8787"],
    [["--ip", "fd00::20"], "fd00::20", "http://[fd00::20]:8787"],
  ])(
    "passes the user's %j through instead of its own address; the base URL is %s's reachable one",
    (argv, ip, base) => {
      const p = plan({ argv });
      expect(valuesOf(p.args, "ip")).toEqual([ip]);
      expect(p.base).toBe(base);
      expect(p.args).toEqual(expect.arrayContaining(["--port", "8787", "--var", `APP_BASE_URL:${base}`]));
    },
  );

  it("takes --port and --ip together, keeping APP_BASE_URL when it is set", () => {
    const p = plan({
      argv: ["--ip", "0.0.0.0", "--port", "9001"],
      env: { PORT: "1234" },
      devVarsKeys: new Set(["APP_BASE_URL"]),
    });
    expect(p).toMatchObject({ port: 9001, base: "http://localhost:9001" });
    expect(valuesOf(p.args, "port")).toEqual(["9001"]);
    expect(valuesOf(p.args, "ip")).toEqual(["0.0.0.0"]);
    expect(p.args.join(" ")).not.toContain("APP_BASE_URL");
  });

  it("refuses a --port or --ip without a value, given twice, or a port that is not one", () => {
    expect(() => plan({ argv: ["--port"] })).toThrow(/--port needs a value/);
    expect(() => plan({ argv: ["--port", "--ip", "0.0.0.0"] })).toThrow(/--port needs a value/);
    expect(() => plan({ argv: ["--ip="] })).toThrow(/--ip needs a value/);
    expect(() => plan({ argv: ["--port", "9000", "--port=9001"] })).toThrow(/--port is given twice/);
    expect(() => plan({ argv: ["--ip", "0.0.0.0", "--ip", "::"] })).toThrow(/--ip is given twice/);
    for (const bad of ["http", "0", "65536", "90.5"])
      expect(() => plan({ argv: ["--port", bad] })).toThrow(/--port must be/);
  });

  it("applies the migrations where the user's --persist-to keeps the state", () => {
    expect(plan().persistTo).toBeUndefined();
    expect(plan({ argv: ["--persist-to", "/tmp/x"] }).persistTo).toBe("/tmp/x");
  });
});

/** `npm run dev -- <argv>` in its own process group, its output collected. */
function npmRunDev(argv: string[]) {
  const child = spawn("npm", ["run", "dev", "--", ...argv], {
    cwd: ROOT,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return { child, output: () => output };
}

/** Resolves once `url` answers 2xx; throws (with the script's output) if it exits or takes too long. */
async function answers(url: string, dev: ReturnType<typeof npmRunDev>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dev.child.exitCode !== null) throw new Error(`npm run dev exited ${dev.child.exitCode}:\n${dev.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return res;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${dev.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stop(child: ChildProcess) {
  return new Promise<void>((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once("exit", () => res());
    try {
      process.kill(-(child.pid as number), "SIGTERM");
    } catch {
      return res();
    }
    setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
      res();
    }, 5000).unref();
  });
}

// The real script, with its state in a directory of its own (never the developer's
// .wrangler/state). It writes .dev.vars when missing, as a first `npm run dev` does; done once
// here so that the two servers below do not both write it.
describe("npm run dev: the real script", () => {
  const dir = mkdtempSync(join(tmpdir(), "ledgerlink-dev-script-"));
  const running: ChildProcess[] = [];
  beforeAll(() => {
    ensureDevVars();
  });
  afterAll(async () => {
    await Promise.all(running.map(stop));
    rmSync(dir, { recursive: true, force: true });
  });

  // Both start at once: each is a wrangler dev, and the suite should not wait for them in turn.
  // (Concurrent tests use their own `expect`.)
  it.concurrent.for([
    ["--port <free port>", (port: number) => ["--port", String(port)]],
    ["--port=<free port> --ip 0.0.0.0", (port: number) => [`--port=${port}`, "--ip", "0.0.0.0"]],
  ] as const)(
    "serves /health on the port asked for with %s",
    { timeout: 120_000 },
    async ([label, args], { expect }) => {
      // A free port can be taken by a server another suite starts meanwhile: then another is tried.
      let port = 0;
      let dev: ReturnType<typeof npmRunDev> | undefined;
      let res: Response | undefined;
      for (let attempt = 1; !res; attempt++) {
        port = (await freePort()) as number;
        dev = npmRunDev([...args(port), "--persist-to", join(dir, label.includes("--ip") ? "b" : "a")]);
        running.push(dev.child);
        try {
          res = await answers(`http://127.0.0.1:${port}/health`, dev);
        } catch (err) {
          if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
        }
      }
      if (!dev) throw new Error("unreachable");
      expect(((await res.json()) as { status: string }).status).toBe("ok");
      // The banner (printed once wrangler is ready) names the same port; wrangler took every argument.
      await expect.poll(dev.output, { timeout: 10_000 }).toContain(`Health     http://localhost:${port}/health`);
      expect(dev.output()).not.toMatch(/expects a single value|Unknown argument/);
      await stop(dev.child);
    },
  );
});
