import { describe, expect, it } from "vitest";
import { OPERATOR_LABEL, creator } from "./creator";

describe("creator", () => {
  const names = new Map([["key_owner", "Owner key"]]);
  it.each([
    { name: "empty (first start, bootstrap, recover)", by: "", label: OPERATOR_LABEL, id: null, operator: true },
    { name: "null", by: null, label: OPERATOR_LABEL, id: null, operator: true },
    { name: "a key the page knows", by: "key_owner", label: "Owner key", id: "key_owner", operator: false },
    { name: "a key the page does not know", by: "key_other", label: "key_other", id: null, operator: false },
  ])("$name", ({ by, label, id, operator }) => {
    const c = creator(by, names);
    expect(c.label).toBe(label);
    expect(c.id).toBe(id);
    expect(c.operator).toBe(operator);
  });
});
