// types.ts is held to docs/openapi.json: every property of an answer or
// request type exists in its schema and every schema property exists in the
// type, with the same optionality for answers (a property the schema
// requires is never optional in TypeScript, and the other way round).
import ts from "typescript";
import { describe, expect, it } from "vitest";
import openapiText from "../../docs/openapi.json?raw";
import typesText from "./types.ts?raw";

interface Schema {
  properties?: Record<string, unknown>;
  required?: string[];
  allOf?: ({ $ref: string } | Schema)[];
}

const schemas = (JSON.parse(openapiText) as { components: { schemas: Record<string, Schema> } }).components.schemas;

/** A schema's properties and required names, allOf and $ref resolved. */
function schemaMembers(name: string): { props: Set<string>; required: Set<string> } {
  const s = schemas[name];
  if (!s) throw new Error(`docs/openapi.json has no schema ${name}`);
  const props = new Set(Object.keys(s.properties ?? {}));
  const required = new Set(s.required ?? []);
  for (const part of s.allOf ?? []) {
    const m = "$ref" in part ? schemaMembers(String(part.$ref).replace("#/components/schemas/", "")) : null;
    const own = m ?? { props: new Set(Object.keys((part as Schema).properties ?? {})), required: new Set((part as Schema).required ?? []) };
    own.props.forEach((p) => props.add(p));
    own.required.forEach((p) => required.add(p));
  }
  return { props, required };
}

const source = ts.createSourceFile("types.ts", typesText, ts.ScriptTarget.ES2022, true);
const interfaces = new Map<string, ts.InterfaceDeclaration>();
source.forEachChild((n) => {
  if (ts.isInterfaceDeclaration(n)) interfaces.set(n.name.text, n);
});

type Members = Map<string, { optional: boolean; type: ts.TypeNode | undefined }>;

function membersOf(list: ts.NodeArray<ts.TypeElement>, into: Members): Members {
  for (const m of list) {
    if (ts.isPropertySignature(m) && m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)))
      into.set(m.name.text, { optional: !!m.questionToken, type: m.type });
  }
  return into;
}

/** The members of an interface, inherited ones included. */
function interfaceMembers(name: string): Members {
  const decl = interfaces.get(name);
  if (!decl) throw new Error(`types.ts has no interface ${name}`);
  const out: Members = new Map();
  for (const h of decl.heritageClauses ?? [])
    for (const t of h.types) if (ts.isIdentifier(t.expression)) interfaceMembers(t.expression.text).forEach((v, k) => out.set(k, v));
  return membersOf(decl.members, out);
}

/** The object members of a type node: a literal, a named interface, an array of one, or one of them | null. */
function typeMembers(t: ts.TypeNode | undefined): Members {
  if (!t) throw new Error("no type");
  if (ts.isTypeLiteralNode(t)) return membersOf(t.members, new Map());
  if (ts.isArrayTypeNode(t)) return typeMembers(t.elementType);
  if (ts.isParenthesizedTypeNode(t)) return typeMembers(t.type);
  if (ts.isUnionTypeNode(t)) {
    const obj = t.types.filter((x) => !(ts.isLiteralTypeNode(x) && x.literal.kind === ts.SyntaxKind.NullKeyword));
    if (obj.length === 1) return typeMembers(obj[0]);
  }
  if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) return interfaceMembers(t.typeName.text);
  throw new Error(`cannot read the members of ${t.getText()}`);
}

/** "ExploreResult.request" → the members of that property's type. */
function members(path: string): Members {
  const [head, ...rest] = path.split(".");
  let m = interfaceMembers(head);
  for (const p of rest) {
    const prop = m.get(p);
    if (!prop) throw new Error(`${path}: no property ${p}`);
    m = typeMembers(prop.type);
  }
  return m;
}

// TypeScript type (or property path) → schema. "names": property names must
// match both ways; "answer": also the same optionality; "subset": the type is
// one of several shapes of a shared schema (Node).
const cases: [string, string, "answer" | "names" | "subset"][] = [
  ["Scope", "Scope", "answer"],
  ["ScopeSpec", "ScopeSpec", "answer"],
  ["GrantInput.scope", "ScopeSpec", "answer"],
  ["Grant", "Grant", "answer"],
  ["ApiKey", "Key", "answer"],
  ["ApiKeyWithToken", "KeyWithToken", "answer"],
  ["GrantInput", "GrantSpec", "answer"],
  ["KeyRequest", "KeySpec", "answer"],
  ["KeyRequest", "KeyCreateSpec", "names"],
  ["RotateRequest", "RotateSpec", "names"],
  ["Revocation", "Revocation", "answer"],
  ["AuditEvent", "AuditEvent", "answer"],
  ["AuditActor", "AuditActor", "answer"],
  ["AuditTarget", "AuditTarget", "answer"],
  ["AuditSource", "AuditSource", "answer"],
  ["AuditChange", "AuditChange", "answer"],
  ["AuditEventPage", "AuditEventPage", "answer"],
  ["KeyUsage", "KeyUsage", "answer"],
  ["UsageDay", "UsageDay", "answer"],
  ["KeyUsage.totals", "UsageCount", "answer"],
  ["Page", "KeyPage", "answer"],
  ["Page", "NodePage", "answer"],
  ["Page.unreadable", "Unreadable", "answer"],
  ["CatalogPermission", "CatalogPermission", "answer"],
  ["CatalogWildcard", "CatalogWildcard", "answer"],
  ["CatalogGroup", "CatalogGroup", "answer"],
  ["CatalogPreset", "CatalogPreset", "answer"],
  ["CatalogRoute", "CatalogRoute", "answer"],
  ["Catalog", "Catalog", "answer"],
  ["Organization", "Organization", "answer"],
  ["Team", "Node", "subset"],
  ["Project", "Node", "subset"],
  ["Target", "Node", "subset"],
  ["Environment", "Node", "names"],
  ["VerifyResponse", "VerifyResponse", "answer"],
  ["VerifyResponse.key", "VerifiedKey", "answer"],
  ["ExploreRequest", "ExploreRequest", "names"],
  ["ExploreAccess", "AccessCell", "answer"],
  ["ExploreAccess.node", "AccessNode", "answer"],
  ["ExploreHidden", "AccessHidden", "answer"],
  ["ExploreHidden.permissions", "AccessHiddenPermission", "answer"],
  ["ExploreResult", "ExploreResult", "answer"],
  ["ExploreResult.request", "ExploreCallRequest", "answer"],
  ["ExploreResult.network", "ExploreNetwork", "answer"],
  ["ExploreResult.response", "ExploreCallResponse", "answer"],
  ["ExploreResult.snippets", "ExploreSnippets", "answer"],
  ["Webhook", "Webhook", "answer"],
  ["WebhookWithSecret", "WebhookWithSecret", "answer"],
  ["WebhookRequest", "WebhookSpec", "answer"],
  ["WebhookList", "WebhookList", "answer"],
  ["WebhookDelivery", "WebhookDelivery", "answer"],
  ["WebhookDeliveryAttempt", "WebhookDeliveryAttempt", "answer"],
  ["WebhookDeliveryList", "WebhookDeliveryList", "answer"],
  ["WebhookEvent", "WebhookEvent", "answer"],
  ["WebhookEvent.data", "WebhookEventData", "answer"],
  ["WebhookKeyRef", "WebhookKeyRef", "answer"],
  ["Problem", "Problem", "names"],
  ["Problem.errors", "FieldError", "answer"],
];

describe("types.ts against docs/openapi.json", () => {
  it.each(cases)("%s is %s", (path, schema, mode) => {
    const ts = members(path);
    const s = schemaMembers(schema);
    const problems: string[] = [];
    for (const [name, m] of ts) {
      if (!s.props.has(name)) problems.push(`${name} is not in the schema`);
      else if (mode === "answer" && m.optional === s.required.has(name))
        problems.push(`${name} is ${m.optional ? "optional" : "required"} in types.ts, not in the schema`);
    }
    if (mode !== "subset") for (const p of s.props) if (!ts.has(p)) problems.push(`${p} is missing from types.ts`);
    expect(problems).toEqual([]);
  });

  it("names every schema the dashboard reads", () => {
    const used = new Set(cases.map(([, s]) => s));
    for (const s of ["Catalog", "CatalogGroup", "CatalogWildcard", "CatalogPermission", "Key", "ExploreResult"])
      expect(used.has(s)).toBe(true);
  });
});
