import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { type DomainError, type FieldError, invalidFields } from "../errors";

/** Turns zod issues into the problem document's `errors[]`, naming the query/path part when not the body. */
export function fieldErrors(error: z.ZodError, target: keyof ValidationTargets): FieldError[] {
  const prefix = target === "json" || target === "form" ? "" : `${target === "param" ? "path" : target}.`;
  return error.issues.map((issue) => ({
    path: prefix + (issue.path.length ? issue.path.join(".") : "(root)"),
    message: issue.message,
  }));
}

export function validationError(error: z.ZodError, target: keyof ValidationTargets): DomainError {
  return invalidFields(fieldErrors(error, target));
}

/** The hook every validator uses, so each zod failure reaches the one error boundary. */
export const validationHook = (result: { success: boolean; error?: unknown; target: keyof ValidationTargets }) => {
  if (!result.success) throw validationError(result.error as z.ZodError, result.target);
};

/** `zValidator` with the shared hook, for routes outside the OpenAPI router. */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => validationHook({ ...result, target }));
}
