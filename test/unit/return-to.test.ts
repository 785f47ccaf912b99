import { describe, expect, it } from "vitest";
import { returnUrlWith } from "../../src/services/connections/return-to";

describe("the hand-off to return_to", () => {
  it("replaces the app's own state, code and error, so an error never arrives beside a code", () => {
    const url = new URL(
      returnUrlWith("http://localhost:3000/cb?code=x&tab=2&error=y", { state: "s", error: "access_denied" }),
    );
    expect(url.searchParams.getAll("code")).toEqual([]);
    expect(url.searchParams.getAll("error")).toEqual(["access_denied"]);
    expect(url.searchParams.get("state")).toBe("s");
    expect(url.searchParams.get("tab")).toBe("2");
  });
});
