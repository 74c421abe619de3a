import { describe, expect, it } from "vitest";
import { catalog } from "./fixtures/catalog";
import { article, midSentence, plural, sentenceCase, withArticle } from "./grammar";

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

describe("midSentence", () => {
  it.each([
    ["API tokens", "API tokens"],
    ["Secrets", "secrets"],
    ["Projects and targets", "projects and targets"],
    ["Billing", "billing"],
    ["A", "a"],
  ])("%s reads %s", (label, want) => {
    expect(midSentence(label)).toBe(want);
  });

  it("keeps the capitals of every acronym in the server's group labels", () => {
    for (const g of catalog.groups) {
      const words = g.label.split(/\s+/).filter((w) => w.length > 1 && w === w.toUpperCase());
      for (const w of words) expect(midSentence(g.label)).toContain(w);
    }
  });
});

describe("sentenceCase", () => {
  it.each([
    ["API Tokens", "API tokens"],
    ["API tokens", "API tokens"],
    ["Secrets", "Secrets"],
    ["Encryption Keys", "Encryption keys"],
  ])("%s reads %s", (label, want) => {
    expect(sentenceCase(label)).toBe(want);
  });

  it("makes every area of the server's catalog read like its group labels", () => {
    for (const g of catalog.groups) {
      if (g.area.toLowerCase() === g.label.toLowerCase()) expect(sentenceCase(g.area)).toBe(g.label);
    }
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
