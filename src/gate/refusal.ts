import { fail } from "../errors";
import type { LimitAnswer } from "./gate";

/** 429 `rate_limited`: wait for the most restrictive refusal; the limits' state goes along. */
export function rateLimited(answers: LimitAnswer[]) {
  const wait = Math.max(...answers.filter((a) => !a.allowed).map((a) => a.retryAfterSeconds), 1);
  return fail("rate_limited", `Too many requests; retry in ${wait} s.`, {
    retryAfterSeconds: wait,
    rateLimits: answers,
  });
}
