import { describe, expect, it } from "vitest";
import { pageTitle } from "./title";

describe("pageTitle", () => {
  it.each([
    [[], "DotEnv"],
    [["Sign in"], "Sign in · DotEnv"],
    [["API keys"], "API keys · DotEnv"],
    [["CI deploy", "API key"], "CI deploy · API key · DotEnv"],
    [[undefined, "API key"], "API key · DotEnv"],
    [["  ", null, "API key"], "API key · DotEnv"],
    [["Explorer", "CI deploy", "API key"], "Explorer · CI deploy · API key · DotEnv"],
  ] as [(string | null | undefined)[], string][])("%j is %s", (parts, want) => {
    expect(pageTitle(...parts)).toBe(want);
  });
});
