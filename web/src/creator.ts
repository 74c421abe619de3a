// Who created a key, rendered the same way on the key list and the key page.

// Creator is how a key's "created by" reads: a label and, when another key
// created it, that key's id.
export interface Creator {
  label: string;
  id: string | null;
  // operator: minted by the edge command line (first start, `edge bootstrap`,
  // `edge recover`), not by another key.
  operator: boolean;
  title: string;
}

export const OPERATOR_LABEL = "edge (operator)";

// creator describes created_by (null or "" for a key minted by the edge
// command line); names maps the key ids the page knows to their names.
export function creator(createdBy: string | null | undefined, names: ReadonlyMap<string, string>): Creator {
  if (!createdBy) {
    return {
      label: OPERATOR_LABEL,
      id: null,
      operator: true,
      title: "Created by the edge command (first start, edge bootstrap or edge recover), not by another key",
    };
  }
  const name = names.get(createdBy);
  return { label: name ?? createdBy, id: name ? createdBy : null, operator: false, title: createdBy };
}
