/**
 * JSON already serialised, typed by what it holds: a page the user's home shapes and serialises
 * crosses the RPC as one string (cheaper than a structured clone of every row), yet the compiler
 * still checks its shape where it is made (`jsonOf`) and where it is answered (src/http/openapi.ts).
 */
declare const holds: unique symbol;
export type JsonText<T> = string & { readonly [holds]: T };

/** Serialises a value of the wire type `T`. */
export const jsonOf = <T>(value: T): JsonText<T> => JSON.stringify(value) as JsonText<T>;
