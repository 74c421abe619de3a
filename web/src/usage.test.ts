import { describe, expect, it } from "vitest";
import { usage } from "./fixtures/issue11";
import { chartBars, chartMax, dayLabel, deniedByText, deniedReason, usageSummary } from "./usage";

describe("usageSummary", () => {
  it("gives the totals and the reasons of the denials, most first", () => {
    expect(usageSummary(usage)).toBe(
      "12 verifications allowed and 3 denied (2 not permitted, 1 key expired) from 2026-10-31 to 2026-11-29.",
    );
  });
  it("says when there was nothing", () => {
    const none = { ...usage, totals: { allowed: 0, denied: 0, denied_by: {} } };
    expect(usageSummary(none)).toBe("No verifications from 2026-10-31 to 2026-11-29.");
  });
  it("uses the singular for one", () => {
    expect(usageSummary({ ...usage, totals: { allowed: 1, denied: 0, denied_by: {} } })).toBe(
      "1 verification allowed and 0 denied from 2026-10-31 to 2026-11-29.",
    );
  });
});

describe("denied reasons", () => {
  const cases: [string, string][] = [
    ["forbidden", "not permitted"],
    ["expired", "key expired"],
    ["ip_not_allowed", "address not allowed"],
    ["revoked", "key revoked"],
    ["something_new", "something_new"],
  ];
  it.each(cases)("%s reads %s", (code, want) => expect(deniedReason(code)).toBe(want));
  it("leaves out zero counts and an absent map", () => {
    expect(deniedByText({ forbidden: 0, expired: 2 })).toBe("2 key expired");
    expect(deniedByText(undefined)).toBe("");
  });
});

describe("chartBars", () => {
  const bars = chartBars(usage.days);
  it("has one bar per day, oldest first", () => {
    expect(bars).toHaveLength(30);
    expect(bars[0].date).toBe("2026-10-31");
    expect(bars[29].date).toBe("2026-11-29");
  });
  it("scales to the busiest day", () => {
    expect(chartMax(usage.days)).toBe(10);
    expect(bars[29].allowedPart).toBeCloseTo(0.8);
    expect(bars[29].deniedPart).toBeCloseTo(0.2);
    expect(bars[28].allowedPart + bars[28].deniedPart).toBeCloseTo(0.5);
    expect(bars[0].allowedPart).toBe(0);
  });
  it("does not divide by zero on an idle month", () => {
    const idle = chartBars(usage.days.map((d) => ({ ...d, allowed: 0, denied: 0 })));
    expect(idle.every((b) => b.allowedPart === 0 && b.deniedPart === 0)).toBe(true);
  });
});

describe("dayLabel", () => {
  it("names a UTC date whatever the local zone", () => {
    expect(dayLabel("2026-11-29")).toBe("Nov 29");
    expect(dayLabel("garbage")).toBe("garbage");
  });
});
