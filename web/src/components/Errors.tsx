import { ApiError } from "../api";

/** Plain words for any error thrown by the client. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A banner for errors that do not concern one field. */
export function ErrorBanner({ error, testId = "error" }: { error: unknown; testId?: string }) {
  if (!error) return null;
  const fieldErrors = error instanceof ApiError ? error.fieldErrors() : [];
  return (
    <div class="banner banner-error" role="alert" data-testid={testId}>
      <p>{errorText(error)}</p>
      {fieldErrors.length > 0 && (
        <ul>
          {fieldErrors.map((f) => (
            <li key={f.field + f.message}>
              <strong>{f.field}</strong>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The message under one field; its id is what the field's aria-describedby names. */
export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p class="field-error" id={id} data-testid={id} tabIndex={-1}>
      {message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}
