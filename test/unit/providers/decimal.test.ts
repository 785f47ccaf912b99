import { describe, expect, it } from "vitest";
import {
  decimalAdd,
  decimalDiv,
  decimalFromNumber,
  decimalFromUnits,
  decimalIsZero,
  decimalMul,
  decimalNeg,
  decimalScale,
  decimalSub,
  decimalToUnits,
  isDecimal,
} from "../../../src/home/money";
import { parseSchwabDate } from "../../../src/providers/schwab-wire";

describe("decimalFromNumber", () => {
  it("keeps the decimal the provider wrote (shortest round trip)", () => {
    const parsed = JSON.parse("[0.1, 0.2, 0.3, 0.7, 1.005, 229.98, -1149.9, 70, 12.5, -0.01, 0.000001]") as number[];
    expect(parsed.map(decimalFromNumber)).toEqual([
      "0.1",
      "0.2",
      "0.3",
      "0.7",
      "1.005",
      "229.98",
      "-1149.9",
      "70",
      "12.5",
      "-0.01",
      "0.000001",
    ]);
  });

  it("never uses exponent notation", () => {
    expect(decimalFromNumber(1e-7)).toBe("0.0000001");
    expect(decimalFromNumber(-1.5e-10)).toBe("-0.00000000015");
    expect(decimalFromNumber(1.2345e-7)).toBe("0.00000012345");
    expect(decimalFromNumber(1e21)).toBe("1000000000000000000000");
    expect(decimalFromNumber(1.5e22)).toBe("15000000000000000000000");
    expect(decimalFromNumber(-2.5e21)).toBe("-2500000000000000000000");
    expect(decimalFromNumber(123456789012345680000)).toBe("123456789012345680000");
    expect(decimalFromNumber(Number.MIN_VALUE)).toMatch(/^0\.0{323}5$/);
  });

  it("normalizes zero and refuses non-finite numbers", () => {
    expect(decimalFromNumber(0)).toBe("0");
    expect(decimalFromNumber(-0)).toBe("0");
    expect(() => decimalFromNumber(Number.NaN)).toThrow(RangeError);
    expect(() => decimalFromNumber(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("round-trips every formatted value to the same double", () => {
    for (const n of [0.1 + 0.2, 1 / 3, 2 ** 53 + 2, 1 / 7e6, 5e-324, 1.7976931348623157e308]) {
      const text = decimalFromNumber(n);
      expect(isDecimal(text)).toBe(true);
      expect(Number(text)).toBe(n);
    }
  });
});

describe("decimal arithmetic", () => {
  it("adds and subtracts exactly", () => {
    expect(decimalAdd("0.1", "0.2")).toBe("0.3");
    expect(decimalSub("0.3", "0.1")).toBe("0.2");
    expect(decimalSub("0", "10")).toBe("-10");
    expect(decimalSub("12.5", "0")).toBe("12.5");
    expect(decimalSub("100.10", "0.1")).toBe("100");
    expect(decimalAdd("-0.5", "0.5")).toBe("0");
    expect(decimalSub("0.000001", "1000000")).toBe("-999999.999999");
    expect(decimalNeg("0")).toBe("0");
    expect(decimalNeg("-3.25")).toBe("3.25");
  });

  it("multiplies exactly", () => {
    expect(decimalMul("2", "100")).toBe("200");
    expect(decimalMul("-0.1", "0.2")).toBe("-0.02");
    expect(decimalMul("1.005", "1000")).toBe("1005");
  });

  it("divides with half-even rounding and refuses zero divisors", () => {
    expect(decimalDiv("1", "3", 6)).toBe("0.333333");
    expect(decimalDiv("2", "3", 6)).toBe("0.666667");
    expect(decimalDiv("0.125", "1", 2)).toBe("0.12");
    expect(decimalDiv("0.135", "1", 2)).toBe("0.14");
    expect(decimalDiv("-1", "8", 2)).toBe("-0.12");
    expect(decimalDiv("-1240.5", "-5", 6)).toBe("248.1");
    expect(decimalDiv("1", "0")).toBeNull();
    expect(decimalIsZero("-0.000")).toBe(true);
  });

  it("rejects strings that are not plain decimals", () => {
    for (const bad of ["1e5", "+1", " 1", "1.", ".5", "0x10", ""]) {
      expect(isDecimal(bad)).toBe(false);
      expect(() => decimalAdd(bad, "1")).toThrow(RangeError);
    }
  });
});

describe("decimal units (net worth's exact running sums)", () => {
  it("round-trips at any scale at least the value's own, and refuses a smaller one", () => {
    for (const v of ["0", "-0.01", "12.5", "1000000.005", "-7", "0.10"]) {
      for (const scale of [decimalScale(v), decimalScale(v) + 3]) {
        expect(decimalFromUnits(decimalToUnits(v, scale), scale)).toBe(decimalAdd(v, "0"));
      }
    }
    expect(decimalToUnits("-1.5", 2)).toBe(-150n);
    expect(decimalToUnits("-0.05", 3)).toBe(-50n);
    expect(decimalScale("12")).toBe(0);
    expect(decimalScale("-0.125")).toBe(3);
    expect(() => decimalToUnits("1.005", 2)).toThrow(RangeError);
    expect(decimalFromUnits(-5n, 2)).toBe("-0.05");
  });
});

describe("parseSchwabDate", () => {
  it("reads real-traffic offsets without a colon", () => {
    expect(parseSchwabDate("2025-01-14T05:15:12+0000")?.toISOString()).toBe("2025-01-14T05:15:12.000Z");
    expect(parseSchwabDate("2025-01-14T05:15:12-0500")?.toISOString()).toBe("2025-01-14T10:15:12.000Z");
    expect(parseSchwabDate("2025-01-14T05:15:12+0530")?.toISOString()).toBe("2025-01-13T23:45:12.000Z");
  });

  it("reads ISO forms with Z, milliseconds, colon offsets and bare dates", () => {
    expect(parseSchwabDate("2024-03-28T21:10:42.000Z")?.toISOString()).toBe("2024-03-28T21:10:42.000Z");
    expect(parseSchwabDate("2024-03-28T21:10:42.5Z")?.toISOString()).toBe("2024-03-28T21:10:42.500Z");
    expect(parseSchwabDate("2024-03-28T21:10:42Z")?.toISOString()).toBe("2024-03-28T21:10:42.000Z");
    expect(parseSchwabDate("2024-03-28T21:10:42+01:00")?.toISOString()).toBe("2024-03-28T20:10:42.000Z");
    expect(parseSchwabDate("2024-02-29")?.toISOString()).toBe("2024-02-29T00:00:00.000Z");
  });

  it("refuses impossible or ambiguous timestamps", () => {
    for (const bad of [
      "2025-02-30T00:00:00+0000",
      "2025-01-14T24:00:00+0000",
      "2025-01-14T05:60:00+0000",
      "2025-01-14T05:15:12",
      "2025-01-14 05:15:12+0000",
      "2025-01-14T05:15:12+0060",
      "1736831712000",
      "",
    ]) {
      expect(parseSchwabDate(bad), bad).toBeNull();
    }
  });
});
