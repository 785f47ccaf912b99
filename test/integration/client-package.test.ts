import { describe, expect, it } from "vitest";
import client from "../../client/package.json";
import { call } from "../support/http";

// The client package follows the API's version (root package.json, served as the OpenAPI
// document's info.version): a release bumps both, so an app can tell which API its client speaks.
describe("the client package (client/package.json)", () => {
  it("has the version of the OpenAPI document the API serves", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { info: { version: string } };
    expect(client.version).toBe(doc.info.version);
  });

  it("keeps openapi-fetch its only runtime dependency", () => {
    expect(Object.keys(client.dependencies)).toEqual(["openapi-fetch"]);
  });
});
