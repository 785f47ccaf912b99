import pkg from "../package.json";

/** The deployed version, from package.json, reported by /health. */
export const VERSION: string = pkg.version;
