import { creator } from "../creator";

// CreatedBy renders a key's "created by": the one rendering of the key list
// and the key page.
export function CreatedBy({ createdBy, names }: { createdBy: string | null; names: ReadonlyMap<string, string> }) {
  const c = creator(createdBy, names);
  if (c.operator)
    return (
      <span class="muted" title={c.title} data-testid="created-by">
        {c.label}
      </span>
    );
  if (c.id)
    return (
      <span title={c.title} data-testid="created-by">
        {c.label}
      </span>
    );
  return (
    <code title={c.title} data-testid="created-by">
      {c.label}
    </code>
  );
}
