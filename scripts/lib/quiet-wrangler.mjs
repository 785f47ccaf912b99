// Trims `wrangler dev`'s console for a newcomer: the bindings table (printed twice, 40 lines each
// since wrangler.toml declares every setting) and the offline `Request.cf` warning with its stack
// are dropped; everything else, errors included, passes through unchanged.
import { createInterface } from "node:readline";

const BINDINGS = /Your Worker has access to the following bindings/;
const CF_WARNING = /Unable to fetch the `Request\.cf` object/;
const STACK = /^(Error: getaddrinfo|\s+at )/;

/** Pipes `stream` to `out` line by line, minus the noise; calls `onReady(url)` once ready. */
export function filterWranglerOutput(stream, out, onReady = () => {}) {
  let skippingTable = false;
  let skippingStack = false;
  let ready = false;
  createInterface({ input: stream }).on("line", (line) => {
    if (BINDINGS.test(line)) {
      skippingTable = true;
      return;
    }
    if (skippingTable) {
      if (line.trim() === "") skippingTable = false;
      return;
    }
    if (CF_WARNING.test(line)) {
      skippingStack = true;
      return;
    }
    if (skippingStack && STACK.test(line)) return;
    skippingStack = false;
    out.write(`${line}\n`);
    const url = /Ready on (\S+)/.exec(line)?.[1];
    if (url && !ready) {
      ready = true;
      onReady(url);
    }
  });
}
