import { describe, expect, it } from "vitest";
import { article, plural, withArticle } from "./grammar";

describe("article", () => {
  it.each([
    ["environment", "an"],
    ["Environment", "an"],
    ["organization", "an"],
    ["item", "an"],
    ["team", "a"],
    ["project", "a"],
    ["target", "a"],
    ["user", "a"],
    ["unit", "a"],
    ["one-off key", "a"],
    ["hour", "an"],
    ["API key", "an"],
    ["SDK", "an"],
    ["URL", "a"],
    ["CI secret", "a"],
    ["", "a"],
  ])("%s takes %s", (word, want) => {
    expect(article(word)).toBe(want);
  });

  it("prefixes every scope level correctly", () => {
    expect(["team", "project", "target", "environment"].map(withArticle)).toEqual([
      "a team",
      "a project",
      "a target",
      "an environment",
    ]);
  });
});

describe("plural", () => {
  it("names the levels", () => {
    expect(["team", "project", "target", "environment"].map(plural)).toEqual([
      "teams",
      "projects",
      "targets",
      "environments",
    ]);
  });
});
